-- Cost budgets sit beside token budgets as `usd:day` and `usd:month` (micro-USD).
CREATE TABLE gateway_budgets_new (
    project_id TEXT NOT NULL REFERENCES projects (id),
    period     TEXT NOT NULL CHECK (period IN ('day', 'month', 'usd:day', 'usd:month')),
    tokens     INTEGER NOT NULL,
    set_by     TEXT NOT NULL,
    set_at     INTEGER NOT NULL,
    PRIMARY KEY (project_id, period)
);
INSERT INTO gateway_budgets_new SELECT project_id, period, tokens, set_by, set_at FROM gateway_budgets;
DROP TABLE gateway_budgets;
ALTER TABLE gateway_budgets_new RENAME TO gateway_budgets;
