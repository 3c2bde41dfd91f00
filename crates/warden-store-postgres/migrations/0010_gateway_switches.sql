-- The gateway's kill switches: while a row exists, calls matching its target are
-- refused and streams to it are cut. Targets: `external` (all external egress),
-- `provider:<name>`, `region:<name>`.
CREATE TABLE gateway_switches (
    target TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
