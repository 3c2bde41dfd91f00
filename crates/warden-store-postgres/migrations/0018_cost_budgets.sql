-- Cost budgets sit beside token budgets as `usd:day` and `usd:month` (micro-USD).
ALTER TABLE gateway_budgets DROP CONSTRAINT gateway_budgets_period_check;
ALTER TABLE gateway_budgets ADD CONSTRAINT gateway_budgets_period_check
    CHECK (period IN ('day', 'month', 'usd:day', 'usd:month'));
