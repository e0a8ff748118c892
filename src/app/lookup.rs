//! An instance id or an element-instance UId from what a person typed:
//! whole, or its first characters when they name exactly one. When they
//! name none or several, the error carries what a front end needs to help:
//! the candidates, or the other kind of id the text does start.

use crate::store::{ElementInstanceMatch, InstanceMatch, ProcessStore, StoreError};
use uuid::Uuid;

/// At most this many candidates are kept for an ambiguous prefix.
pub const CANDIDATES: usize = 10;

/// Why a prefix names no single id.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LookupError {
    /// `no instance id starts with `b7``
    #[error("no instance id starts with `{text}`")]
    #[diagnostic(code(procdsl::app::no_instance))]
    NoInstance {
        text: String,
        /// An element-instance whose UId the text starts instead.
        element_instance: Option<ElementInstanceMatch>,
    },
    /// `3 instances have an id starting with `b7`; give more of it`
    #[error("{} instances have an id starting with `{text}`; give more of it", count(candidates.len()))]
    #[diagnostic(code(procdsl::app::ambiguous_instance))]
    ManyInstances { text: String, candidates: Vec<InstanceMatch> },
    /// `no element-instance UId starts with `b7``
    #[error("no element-instance UId starts with `{text}`")]
    #[diagnostic(code(procdsl::app::no_element_instance))]
    NoElementInstance {
        text: String,
        /// An instance whose id the text starts instead.
        instance: Option<Uuid>,
    },
    /// `2 element-instances have a UId starting with `b7`; give more of it`
    #[error("{} element-instances have a UId starting with `{text}`; give more of it", count(candidates.len()))]
    #[diagnostic(code(procdsl::app::ambiguous_element_instance))]
    ManyElementInstances { text: String, candidates: Vec<ElementInstanceMatch> },
    /// The store could not be read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
}

/// `3`, or `more than 10` when the lookup stopped there.
fn count(n: usize) -> String {
    if n > CANDIDATES {
        format!("more than {CANDIDATES}")
    } else {
        n.to_string()
    }
}

/// An instance id, whole or by its first characters. A whole id is taken
/// as it is (a command then says whether the store holds it).
pub fn resolve_instance(store: &mut dyn ProcessStore, text: &str) -> Result<Uuid, LookupError> {
    if let Ok(id) = text.trim().parse::<Uuid>() {
        return Ok(id);
    }
    let mut found = store.instances_starting_with(text, CANDIDATES + 1)?;
    match found.len() {
        1 => Ok(found.remove(0).id),
        0 => {
            let element_instance = store.element_instances_starting_with(text, 1)?.into_iter().next();
            Err(LookupError::NoInstance { text: text.to_string(), element_instance })
        }
        _ => Err(LookupError::ManyInstances { text: text.to_string(), candidates: found }),
    }
}

/// An element-instance UId, whole or by its first characters.
pub fn resolve_element_instance(store: &mut dyn ProcessStore, text: &str) -> Result<Uuid, LookupError> {
    if let Ok(uid) = text.trim().parse::<Uuid>() {
        return Ok(uid);
    }
    let mut found = store.element_instances_starting_with(text, CANDIDATES + 1)?;
    match found.len() {
        1 => Ok(found.remove(0).uid),
        0 => {
            let instance = store.instances_starting_with(text, 1)?.into_iter().next().map(|m| m.id);
            Err(LookupError::NoElementInstance { text: text.to_string(), instance })
        }
        _ => Err(LookupError::ManyElementInstances { text: text.to_string(), candidates: found }),
    }
}
