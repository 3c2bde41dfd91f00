//! Integration tests of the HTTP API over real stores (one test binary).

mod audit;
mod blobs;
mod catalog;
mod evidence;
mod gateway;
mod hardening;
mod harness;
mod identity;
mod input;
mod oidc;
mod outage;
mod registry;
mod releases;
mod routes;
mod sweep;
