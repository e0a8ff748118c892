#![allow(dead_code)]
use fantoccini::ClientBuilder;
pub fn builder() -> ClientBuilder<hyper_util::client::legacy::connect::HttpConnector> {
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
}
