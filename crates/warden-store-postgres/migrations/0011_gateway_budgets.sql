-- Gateway budgets and rate limits. A budget is a project's token allowance per day or
-- per month; counters hold what was used (and reserved by calls in flight) per scope
-- and window. Reservations are conditional updates, so concurrent calls on several
-- replicas can never take a counter past its limit.
CREATE TABLE gateway_budgets (
    project_id TEXT NOT NULL REFERENCES projects (id),
    period     TEXT NOT NULL CHECK (period IN ('day', 'month')),
    tokens     BIGINT NOT NULL,
    set_by     TEXT NOT NULL,
    set_at     BIGINT NOT NULL,
    PRIMARY KEY (project_id, period)
);

CREATE TABLE gateway_counters (
    scope        TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    PRIMARY KEY (scope, window_start)
);
