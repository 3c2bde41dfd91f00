//! What every handler is given: the application and the metrics.

use std::sync::Arc;

use warden_app::App;

use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub metrics: Arc<Metrics>,
}
