"""Calls Warden's gateway with the official `openai` package, as an application would.
Arguments: base URL (…/v1), a personal_data gateway key, a cardholder_data key.
Prints one JSON object with what each call returned or raised."""
import json
import sys

import openai

base, personal, cards = sys.argv[1:4]
out = {}
client = openai.OpenAI(base_url=base, api_key=personal, max_retries=0)
prompt = "Customer Maria Garcia (maria.garcia@example.com, SSN 536-22-8174) disputes a charge."

r = client.chat.completions.create(model="gpt-eu", messages=[{"role": "user", "content": prompt}])
out["chat"] = r.choices[0].message.content
out["usage"] = r.usage.total_tokens

pieces = []
usage = None
with client.chat.completions.create(model="gpt-eu", messages=[{"role": "user", "content": prompt}], stream=True,
                                    stream_options={"include_usage": True}) as stream:
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage.total_tokens
        for c in chunk.choices:
            if c.delta.content:
                pieces.append(c.delta.content)
out["stream"] = "".join(pieces)
out["stream_pieces"] = len(pieces)
out["stream_usage"] = usage

e = client.embeddings.create(model="embed-eu", input=["maria.garcia@example.com", "hello"])
out["embeddings"] = [len(d.embedding) for d in e.data]

out["models"] = sorted(m.id for m in client.models.list())

for name, call in {
    "unknown_model": lambda: client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}]),
    "cards_external": lambda: openai.OpenAI(base_url=base, api_key=cards, max_retries=0).chat.completions.create(
        model="gpt-eu", messages=[{"role": "user", "content": "x"}]),
    "bad_key": lambda: openai.OpenAI(base_url=base, api_key="wdn_nope", max_retries=0).models.list(),
}.items():
    try:
        call()
        out[name] = "no error"
    except openai.APIStatusError as err:
        out[name] = {"class": type(err).__name__, "status": err.status_code, "message": err.message}

print(json.dumps(out))
