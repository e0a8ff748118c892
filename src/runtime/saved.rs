//! The saved form of an instance: plain data with a format version, that a
//! store writes and reads back. It names its definition (process Code; the
//! store keeps the program's sources by hash) and never holds AST nodes.

use crate::check::spec::{ElementId, ProcessSpec, Program};
use crate::runtime::convert;
use crate::runtime::instance::*;
use crate::runtime::value::{Type, Value};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use uuid::Uuid;

/// The version of the saved form this build writes. Older versions are
/// read or refused by [`SavedInstance::restore`], never misread.
///
/// - 1: the first.
/// - 2: adds who started the instance (`startedBy`), its history (who
///   started, executed, cancelled or signalled it) and each waiting user
///   task's evaluated `to`. A version 1 state reads as a version 2 state
///   without them; its starter is [`UNKNOWN_STARTER`].
/// - 3: adds each waiting element-instance's `deadline` and next
///   `reminder`, and the element-instances cancelled by a deadline
///   (`expired`). Versions 1 and 2 read as version 3 without them (their
///   definitions had no deadlines).
/// - 4: adds multi-instance elements: each waiting item's `item` (its
///   activation, index and value), the activations whose items still
///   wait (`multi`, with a call's outputs collected so far), and why an
///   element-instance was cancelled (`cause`: a deadline unless it says
///   `until` or `failure`). Versions 1 to 3 read as version 4 without them.
/// - 5: adds the path the instance took (`passed`: how many times each
///   element was activated and each flow taken), for `graph --instance`.
///   Versions 1 to 4 read as version 5 with no path recorded.
pub const FORMAT_VERSION: u32 = 5;

/// The oldest saved form this build still reads.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// An instance as a store keeps it: plain data, versioned.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SavedInstance {
    #[serde(rename = "v")]
    pub format: u32,
    pub id: Uuid,
    pub process: String,
    pub status: Status,
    /// Parameter values in slot order, as JSON of their declared types.
    pub params: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue: Vec<SavedToken>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<SavedWaiting>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joins: Vec<(u32, Vec<u32>)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executed: Vec<Uuid>,
    /// Since version 3.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired: Vec<Expired>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
    /// Log lines dropped because the log was full.
    #[serde(default, rename = "logDropped", skip_serializing_if = "is_zero")]
    pub log_dropped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub clock: Timestamp,
    #[serde(default)]
    pub depth: u32,
    /// Since version 2.
    #[serde(default, rename = "startedBy", skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// Since version 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// Multi-instance activations whose items still wait (since version 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub multi: Vec<SavedMulti>,
    /// The path taken so far (since version 5).
    #[serde(default, skip_serializing_if = "SavedPassed::is_empty")]
    pub passed: SavedPassed,
}

/// The path an instance took, saved: `[element, count]` and
/// `[target, slot, count]` triples in ascending order.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SavedPassed {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<(u32, u32)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<(u32, u32, u32)>,
}

impl SavedPassed {
    fn is_empty(&self) -> bool {
        self.elements.is_empty() && self.flows.is_empty()
    }

    fn of(passed: &Passed) -> SavedPassed {
        SavedPassed {
            elements: passed.elements.iter().map(|(e, n)| (e.0, *n)).collect(),
            flows: passed.flows.iter().map(|((t, slot), n)| (t.0, *slot, *n)).collect(),
        }
    }

    /// The live record, checked against the definition: a flow must be
    /// one of the target's incoming flows.
    fn restore(&self, id: Uuid, spec: &ProcessSpec) -> Result<Passed, String> {
        let mut passed = Passed::default();
        let count = spec.elements.len() as u32;
        for &(e, n) in &self.elements {
            if e >= count {
                return Err(format!("saved instance {id}: its path names element #{e}, which `{}` lacks", spec.code));
            }
            passed.elements.insert(ElementId(e), n);
        }
        for &(t, slot, n) in &self.flows {
            if t >= count || slot >= spec.element(ElementId(t)).incoming {
                return Err(format!(
                    "saved instance {id}: its path names flow {slot} into element #{t}, which `{}` lacks",
                    spec.code
                ));
            }
            passed.flows.insert((ElementId(t), slot), n);
        }
        Ok(passed)
    }
}

/// A multi-instance activation whose items still wait, saved.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SavedMulti {
    pub group: Uuid,
    pub element: u32,
    pub count: u32,
    /// Per output mapping of a call, each item's output so far, as JSON of
    /// the output parameter's item type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Vec<serde_json::Value>>,
}

/// Which item of a multi-instance activation a waiting element-instance is.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SavedItem {
    pub group: Uuid,
    pub index: u32,
    /// The item in [`tagged`] JSON: a list's items have no declared type,
    /// so a Date, a DateTime, a Decimal or a Guid says what it is.
    pub value: serde_json::Value,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A pending element-instance, saved.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SavedToken {
    pub uid: Uuid,
    pub element: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
}

/// A waiting element-instance, saved.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SavedWaiting {
    pub uid: Uuid,
    pub element: u32,
    pub wait: SavedWait,
    /// A user task's evaluated `to` (since version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// When its deadline passes (since version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// When its reminder is next due (since version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<Timestamp>,
    /// The item it stands for, on a multi-instance element (since version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<SavedItem>,
}

/// What a saved element-instance waits for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum SavedWait {
    User,
    Timer { due: Timestamp },
    Signal { name: String },
    Call { child: Box<SavedInstance> },
}

impl SavedInstance {
    /// The saved form of an instance.
    pub fn of(instance: &Instance) -> SavedInstance {
        SavedInstance {
            format: FORMAT_VERSION,
            id: instance.id,
            process: instance.spec().code.to_string(),
            status: instance.status,
            params: instance.params.iter().map(convert::to_json).collect(),
            queue: instance
                .queue
                .iter()
                .map(|t| SavedToken { uid: t.uid, element: t.element.0, resumed: t.resumed })
                .collect(),
            waiting: instance
                .waiting
                .iter()
                .map(|w| SavedWaiting {
                    uid: w.uid,
                    element: w.element.0,
                    to: match &w.wait {
                        Wait::User { to } => to.clone(),
                        _ => None,
                    },
                    wait: match &w.wait {
                        Wait::User { .. } => SavedWait::User,
                        Wait::Timer { due } => SavedWait::Timer { due: *due },
                        Wait::Signal { name } => SavedWait::Signal { name: name.to_string() },
                        Wait::Call { child } => SavedWait::Call { child: Box::new(SavedInstance::of(child)) },
                    },
                    deadline: w.deadline,
                    reminder: w.reminder,
                    item: w.item.as_ref().map(|i| SavedItem {
                        group: i.group,
                        index: i.index,
                        value: tagged(&i.value),
                    }),
                })
                .collect(),
            joins: instance.joins.iter().map(|j| (j.element.0, j.arrived.clone())).collect(),
            executed: instance.executed.clone(),
            expired: instance.expired.clone(),
            log: instance.log.to_vec(),
            log_dropped: instance.log.dropped(),
            error: instance.error.clone(),
            last_error: instance.last_error.as_ref().map(|s| s.to_string()),
            clock: instance.clock,
            depth: instance.depth,
            started_by: instance.started_by.as_ref().map(|s| s.to_string()),
            history: instance.history.clone(),
            multi: instance
                .multi
                .iter()
                .map(|m| SavedMulti {
                    group: m.group,
                    element: m.element.0,
                    count: m.count,
                    outputs: m.outputs.iter().map(|o| o.iter().map(convert::to_json).collect()).collect(),
                })
                .collect(),
            passed: SavedPassed::of(&instance.passed),
        }
    }

    /// Rebuilds the live instance on its program. Anything that does not fit
    /// the definition is refused with a message, never guessed at.
    pub fn restore(&self, program: Arc<Program>) -> Result<Instance, String> {
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&self.format) {
            return Err(format!(
                "saved instance {} has format version {}, but this procdsl reads versions \
                 {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}",
                self.id, self.format
            ));
        }
        let process = program
            .find(&self.process)
            .ok_or_else(|| format!("saved instance {}: its program has no process `{}`", self.id, self.process))?;
        let spec = program.process(process);
        if self.params.len() != spec.params.len() {
            return Err(format!(
                "saved instance {}: {} parameter values for {} parameters of `{}`",
                self.id,
                self.params.len(),
                spec.params.len(),
                spec.code
            ));
        }
        let params = self
            .params
            .iter()
            .zip(&spec.params)
            .map(|(json, p)| {
                convert::from_json(json, &p.ty)
                    .map_err(|e| format!("saved instance {}: parameter `{}`: {e}", self.id, p.code))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let element = |i: u32| -> Result<ElementId, String> {
            if (i as usize) < spec.elements.len() {
                Ok(ElementId(i))
            } else {
                Err(format!("saved instance {}: element #{i} does not exist in `{}`", self.id, spec.code))
            }
        };
        let queue = self
            .queue
            .iter()
            .map(|t| Ok(Token { uid: t.uid, element: element(t.element)?, resumed: t.resumed }))
            .collect::<Result<VecDeque<_>, String>>()?;
        let mut waiting = Vec::with_capacity(self.waiting.len());
        for w in &self.waiting {
            let wait = match &w.wait {
                SavedWait::User => Wait::User { to: w.to.clone() },
                SavedWait::Timer { due } => Wait::Timer { due: *due },
                SavedWait::Signal { name } => Wait::Signal { name: name.as_str().into() },
                SavedWait::Call { child } => Wait::Call { child: Box::new(child.restore(program.clone())?) },
            };
            let id = element(w.element)?;
            let e = spec.element(id);
            let item = match &w.item {
                None => None,
                Some(_) if e.multi.is_none() => {
                    return Err(format!(
                        "saved instance {}: element `{}` waits as an item, but its definition has no `for each`",
                        self.id, e.name
                    ))
                }
                Some(i) => Some(Item {
                    group: i.group,
                    index: i.index,
                    value: untagged(&i.value)
                        .map_err(|err| format!("saved instance {}: item of `{}`: {err}", self.id, e.name))?,
                }),
            };
            // A deadline or reminder the definition does not have could never fire.
            if (w.deadline.is_some() && e.deadline.is_none()) || (w.reminder.is_some() && e.reminder.is_none()) {
                return Err(format!(
                    "saved instance {}: element `{}` waits with a deadline or reminder its definition lacks",
                    self.id, e.name
                ));
            }
            waiting.push(Waiting { uid: w.uid, element: id, wait, deadline: w.deadline, reminder: w.reminder, item });
        }
        let mut joins = Vec::with_capacity(self.joins.len());
        for (e, arrived) in &self.joins {
            let id = element(*e)?;
            let expected = if matches!(spec.element(id).kind, crate::check::spec::ElementKind::Parallel) {
                spec.element(id).incoming as usize
            } else {
                1
            };
            if arrived.len() != expected {
                return Err(format!(
                    "saved instance {}: join state of `{}` does not fit its definition",
                    self.id,
                    spec.element(id).name
                ));
            }
            joins.push(JoinState { element: id, arrived: arrived.clone() });
        }
        let multi = self.restore_multi(spec, &element)?;
        // Every waiting item belongs to an activation that is still open.
        if let Some(w) =
            waiting.iter().find(|w| w.item.as_ref().is_some_and(|i| multi.iter().all(|m| m.group != i.group)))
        {
            return Err(format!(
                "saved instance {}: an item of `{}` belongs to no open activation",
                self.id,
                spec.element(w.element).name
            ));
        }
        Ok(Instance {
            id: self.id,
            process,
            status: self.status,
            params,
            queue,
            waiting,
            joins,
            executed: self.executed.clone(),
            expired: self.expired.clone(),
            multi,
            log: Log::restore(self.log.clone(), self.log_dropped),
            error: self.error.clone(),
            last_error: self.last_error.as_deref().map(Into::into),
            clock: self.clock,
            depth: self.depth,
            started_by: match (&self.started_by, self.format) {
                (Some(who), _) => Some(who.as_str().into()),
                // Version 1 did not record it; the first run must not claim it.
                (None, 1) if self.depth == 0 => Some(UNKNOWN_STARTER.into()),
                (None, _) => None,
            },
            history: self.history.clone(),
            passed: self.passed.restore(self.id, spec)?,
            program,
        })
    }
}

impl SavedInstance {
    /// The multi-instance activations, checked against the definition.
    fn restore_multi(
        &self,
        spec: &crate::check::spec::ProcessSpec,
        element: &dyn Fn(u32) -> Result<ElementId, String>,
    ) -> Result<Vec<MultiState>, String> {
        use crate::check::spec::ElementKind;
        let mut out = Vec::with_capacity(self.multi.len());
        for m in &self.multi {
            let id = element(m.element)?;
            let e = spec.element(id);
            let outputs: &[(u32, u32)] = match &e.kind {
                ElementKind::Call { outputs, .. } => outputs,
                _ => &[],
            };
            if e.multi.is_none() || m.outputs.len() != outputs.len() {
                return Err(format!("saved instance {}: the items of `{}` do not fit its definition", self.id, e.name));
            }
            let mut collected = Vec::with_capacity(outputs.len());
            for (values, (_, to)) in m.outputs.iter().zip(outputs) {
                let param = &spec.params[*to as usize];
                let ty = match &param.ty {
                    Type::List(item) => (**item).clone(),
                    other => other.clone(),
                };
                let values = values
                    .iter()
                    .map(|v| convert::from_json(v, &ty))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|err| format!("saved instance {}: outputs of `{}`: {err}", self.id, e.name))?;
                collected.push(values);
            }
            out.push(MultiState { group: m.group, element: id, count: m.count, outputs: collected });
        }
        Ok(out)
    }
}

/// A value as JSON that keeps its type: Text, Integer, Boolean, null and
/// lists as themselves; a Decimal, Date, DateTime, Guid or object wrapped
/// in a one-attribute object naming it (`{"date": "2026-01-01"}`).
pub fn tagged(value: &Value) -> serde_json::Value {
    use serde_json::{json, Value as J};
    match value {
        Value::Null | Value::Boolean(_) | Value::Integer(_) | Value::Text(_) => convert::to_json(value),
        Value::Decimal(_) => json!({ "decimal": convert::to_json(value) }),
        Value::Date(_) => json!({ "date": convert::to_json(value) }),
        Value::DateTime(_) => json!({ "dateTime": convert::to_json(value) }),
        Value::Guid(_) => json!({ "guid": convert::to_json(value) }),
        Value::List(list) => J::Array(list.items.iter().map(tagged).collect()),
        Value::Object(object) => {
            let attrs = object.attrs.iter().map(|(k, v)| (k.to_string(), tagged(v))).collect();
            json!({ "object": J::Object(attrs) })
        }
    }
}

/// The value [`tagged`] wrote.
pub fn untagged(json: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    match json {
        J::Array(items) => {
            let values = items.iter().map(untagged).collect::<Result<Vec<_>, _>>()?;
            Value::list(values).map_err(|e| e.to_string())
        }
        J::Object(map) if map.len() == 1 => {
            let (tag, inner) = map.iter().next().ok_or("an empty tag")?;
            let ty = match tag.as_str() {
                "decimal" => Type::Decimal,
                "date" => Type::Date,
                "dateTime" => Type::DateTime,
                "guid" => Type::Guid,
                "object" => {
                    let J::Object(attrs) = inner else { return Err("an object's attributes must be an object".into()) };
                    let mut out = indexmap::IndexMap::with_capacity(attrs.len());
                    for (k, v) in attrs {
                        out.insert(Arc::<str>::from(k.as_str()), untagged(v)?);
                    }
                    return Value::object(out).map_err(|e| e.to_string());
                }
                other => return Err(format!("unknown value tag `{other}`")),
            };
            convert::from_json(inner, &ty)
        }
        J::Object(_) => Err("a tagged value has one attribute".into()),
        other => convert::from_json_untyped(other),
    }
}
