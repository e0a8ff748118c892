//! The web console in a real Chromium (issue 14).
mod browser_support;
