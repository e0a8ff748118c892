//! The descriptor: what every way of running a process returns
//! (INTERFACES.md), as JSON and as plain data.

use crate::check::spec::ElementKind;
use crate::runtime::convert;
use crate::runtime::instance::{ErrorInfo, HistoryEntry, Instance, Item, Status, Wait};
use indexmap::IndexMap;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a run returns (INTERFACES.md's descriptor): status, results, waiting element-instances, error, log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub process_id: Uuid,
    pub process_name: String,
    #[serde(rename = "processSchemaUId")]
    pub process_schema_uid: Uuid,
    pub status: Status,
    pub result_parameter_values: IndexMap<String, serde_json::Value>,
    pub waiting: Vec<WaitingElement>,
    pub error: Option<ErrorInfo>,
    pub log: Vec<String>,
    /// Who started the instance: a user or token name, "local" for the
    /// command line and the REPL (absent before the instance first ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// Who started, executed, cancelled or signalled it, in order. Only
    /// [`Instance::descriptor_with_history`] fills it (`show`, the
    /// service's instance view): a run's answer stays what it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

/// An element-instance that can be executed by its UId.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WaitingElement {
    pub uid: Uuid,
    pub element: String,
    #[serde(rename = "elementUId")]
    pub element_uid: Uuid,
    pub kind: String,
    pub caption: Option<String>,
    /// Field name → type, for a user task.
    pub fields: IndexMap<String, String>,
    /// The process the element belongs to, when it is a sub-process's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// A timer's due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// The signal a signal element waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// Who may execute a user task with `to`: user and role names,
    /// evaluated when it started. Absent when it is unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// When the element-instance is cancelled if it still waits: its own
    /// `deadline`, or, in a sub-process, its calling element's when that
    /// comes first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// On a multi-instance element (`for each`): the item's index in its
    /// list, from 0 (in a sub-process: its calling element's item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// The item itself, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_value: Option<serde_json::Value>,
}

impl Instance {
    /// The descriptor with these result parameters (all `out` and `inout`
    /// when `None`). A name the process lacks gets `null`, as Creatio does;
    /// callers that must refuse it check first with `check_results`.
    pub fn descriptor(&self, results: Option<&[String]>) -> Descriptor {
        let spec = self.spec();
        let mut values = IndexMap::new();
        match results {
            Some(names) => {
                for name in names {
                    let v = self.param(name).map_or(serde_json::Value::Null, convert::to_json);
                    values.insert(name.clone(), v);
                }
            }
            None => {
                for p in spec.outputs() {
                    let v = self.param(&p.code).map_or(serde_json::Value::Null, convert::to_json);
                    values.insert(p.code.to_string(), v);
                }
            }
        }
        let mut waiting = Vec::new();
        self.collect_waiting(&mut waiting, false, None, None);
        Descriptor {
            process_id: self.id,
            process_name: spec.code.to_string(),
            process_schema_uid: spec.uid,
            status: self.status,
            result_parameter_values: values,
            waiting,
            error: self.error.clone(),
            log: self.log.to_lines(),
            started_by: self.started_by.as_ref().map(|s| s.to_string()),
            history: Vec::new(),
        }
    }

    /// [`Instance::descriptor`] with the instance's history.
    pub fn descriptor_with_history(&self, results: Option<&[String]>) -> Descriptor {
        Descriptor { history: self.history.clone(), ..self.descriptor(results) }
    }

    /// The executable element-instances: this instance's wait states, and
    /// for a waiting sub-process, the sub-process's. `deadline` is the
    /// calling element's, for a sub-process.
    pub fn collect_waiting(
        &self,
        out: &mut Vec<WaitingElement>,
        nested: bool,
        deadline: Option<Timestamp>,
        item: Option<&Item>,
    ) {
        let spec = self.spec();
        for w in &self.waiting {
            let e = spec.element(w.element);
            let deadline = [w.deadline, deadline].into_iter().flatten().min();
            let item = w.item.as_ref().or(item);
            let (due, signal, to) = match &w.wait {
                Wait::Call { child } => {
                    child.collect_waiting(out, true, deadline, item);
                    continue;
                }
                Wait::Timer { due } => (Some(due.to_string()), None, None),
                Wait::Signal { name } => (None, Some(name.to_string()), None),
                Wait::User { to } => (None, None, to.clone()),
            };
            let fields = match &e.kind {
                ElementKind::User { fields, .. } => {
                    fields.iter().map(|f| (f.name.to_string(), f.ty.to_string())).collect()
                }
                _ => IndexMap::new(),
            };
            out.push(WaitingElement {
                uid: w.uid,
                element: e.name.to_string(),
                element_uid: e.uid,
                kind: e.kind_name().to_string(),
                caption: e.caption.as_ref().map(|c| c.to_string()),
                fields,
                process: nested.then(|| spec.code.to_string()),
                due,
                signal,
                to,
                deadline: deadline.map(|d| d.to_string()),
                item: item.map(|i| i.index),
                item_value: item.map(|i| convert::to_json(&i.value)),
            });
        }
    }
}
