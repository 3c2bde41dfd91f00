"""Sends OpenLineage events to Warden with the official openlineage-python client.

Usage: emit.py BASE_URL API_KEY RUN_ID
Emits START and COMPLETE for a job reading a raw table (with a schema facet) and
writing a features table, then a DatasetEvent, then a malformed event by hand (which
must get 400); prints "ok" when all of that went as expected.
"""

import sys
from datetime import datetime, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

base, key, run_id = sys.argv[1], sys.argv[2], sys.argv[3]
config = HttpConfig(url=base, endpoint="api/v1/lineage", auth=ApiKeyTokenProvider({"apiKey": key}),
                    retry={"total": 0})
client = OpenLineageClient(transport=HttpTransport(config))

producer = "https://github.com/OpenLineage/OpenLineage/tree/1.x/client/python"
schema = schema_dataset.SchemaDatasetFacet(fields=[
    schema_dataset.SchemaDatasetFacetFields(name="ssn", type="text"),
    schema_dataset.SchemaDatasetFacetFields(name="amount", type="numeric"),
])
inputs = [InputDataset(namespace="postgres://db:5432", name="claims.raw", facets={"schema": schema})]
outputs = [OutputDataset(namespace="s3://lake", name="features/claims")]
job = Job(namespace="airflow", name="claims.features")
now = lambda: datetime.now(timezone.utc).isoformat()

for state in (RunState.START, RunState.COMPLETE):
    client.emit(RunEvent(eventType=state, eventTime=now(), run=Run(runId=run_id), job=job,
                         producer=producer, inputs=inputs, outputs=outputs))
client.emit(DatasetEvent(eventTime=now(), producer=producer,
                         dataset=StaticDataset(namespace="s3://lake", name="reference/countries")))
# An event missing required fields, sent raw: Warden names what is missing.
import requests

bad = requests.post(f"{base}/api/v1/lineage", json={"eventType": "START", "producer": "p", "schemaURL": "s"},
                    headers={"Authorization": f"Bearer {key}"}, timeout=5)
assert bad.status_code == 400 and "`eventTime` is required" in bad.text, bad.text
print("ok")
