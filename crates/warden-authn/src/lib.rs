//! Authentication primitives: password hashing (argon2id), TOTP (RFC 6238), API token
//! minting and hashing, and OIDC bearer-token validation against the issuer's JWKS.
//!
//! Only the OIDC verifier does IO (it fetches the JWKS); everything else is pure and
//! takes the time as an argument.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod oidc;
pub mod password;
pub mod token;
pub mod totp;

pub use oidc::{OidcConfig, OidcError, OidcIdentity, OidcVerifier};
