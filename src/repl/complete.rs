//! Tab completion: what can be typed where. The session takes a snapshot of
//! its names after each command, so a line editor can complete without
//! borrowing the session.

use super::help;

/// A pending or waiting element-instance, as completion offers it.
#[derive(Clone, Debug, Default)]
pub struct PendingName {
    pub uid: String,
    pub element: String,
    /// A user task's fields.
    pub fields: Vec<String>,
}

/// The names the session knows at one moment.
#[derive(Clone, Debug, Default)]
pub struct Completions {
    /// Process Codes, each with its `in` and `inout` parameter Codes.
    pub processes: Vec<(String, Vec<String>)>,
    /// The current instance's parameter Codes.
    pub params: Vec<String>,
    /// Element names of every loaded process.
    pub elements: Vec<String>,
    pub pending: Vec<PendingName>,
    pub breakpoints: Vec<String>,
    /// `#1`, `#2`, …
    pub instances: Vec<String>,
    /// Standard function names.
    pub functions: Vec<String>,
}

impl Completions {
    /// Where the word being completed starts in `line`, and what it may become.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let pos = floor_boundary(line, pos);
        let before = &line[..pos];
        let word_start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let args: Vec<&str> = before[..word_start].split_whitespace().collect();
        let word = &before[word_start..];
        let Some(command) = args.first().copied() else {
            return self.expression(before, pos, true);
        };
        let is_command = help::find(command).is_some() && !word.starts_with('=');
        if !is_command {
            return self.expression(before, pos, false);
        }
        let index = args.len();
        let candidates: Vec<String> = match (command, index) {
            ("start" | "run", 1) => self.processes.iter().map(|(c, _)| c.clone()).collect(),
            ("start" | "run", _) => self
                .processes
                .iter()
                .find(|(c, _)| c == args[1])
                .map(|(_, inputs)| inputs.iter().map(|i| format!("{i}=")).collect())
                .unwrap_or_default(),
            ("exec", 1) => self.pending.iter().flat_map(|p| [p.uid.clone(), p.element.clone()]).collect(),
            ("exec", _) => self
                .pending
                .iter()
                .find(|p| p.uid == args[1] || p.element == args[1])
                .map(|p| p.fields.iter().map(|f| format!("{f}=")).collect())
                .unwrap_or_default(),
            ("break", 1) => self.elements.clone(),
            ("unbreak", 1) => self.breakpoints.clone(),
            ("set", 1) => self.params.clone(),
            ("use", 1) => self.instances.clone(),
            ("help", 1) => help::command_names().map(str::to_string).collect(),
            _ => Vec::new(),
        };
        (word_start, matching(candidates, word))
    }

    /// Parameter Codes and functions for the name before the cursor (and
    /// commands, at the start of the line).
    fn expression(&self, before: &str, pos: usize, first: bool) -> (usize, Vec<String>) {
        let start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let word = &before[start..pos];
        let mut candidates: Vec<String> = self.params.clone();
        candidates.extend(self.functions.iter().map(|f| format!("{f}(")));
        if first && start == 0 {
            candidates.extend(help::command_names().map(str::to_string));
        }
        (start, matching(candidates, word))
    }
}

fn matching(mut candidates: Vec<String>, word: &str) -> Vec<String> {
    candidates.retain(|c| c.starts_with(word));
    candidates.sort();
    candidates.dedup();
    candidates
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Completions {
        Completions {
            processes: vec![("UsrOrder".into(), vec!["Amount".into(), "Customer".into()])],
            params: vec!["Amount".into(), "Approved".into()],
            elements: vec!["Approve".into(), "Route".into()],
            pending: vec![PendingName {
                uid: "3f2a0000-0000-4000-8000-000000000000".into(),
                element: "Approve".into(),
                fields: vec!["Decision".into()],
            }],
            breakpoints: vec!["Route".into()],
            instances: vec!["#1".into()],
            functions: vec!["abs".into(), "len".into()],
        }
    }

    #[test]
    fn completes_by_position() {
        let c = sample();
        assert_eq!(c.complete("st", 2), (0, vec!["start".into(), "step".into()]));
        assert_eq!(c.complete("start Us", 8), (6, vec!["UsrOrder".into()]));
        assert_eq!(c.complete("start UsrOrder Am", 17), (15, vec!["Amount=".into()]));
        assert_eq!(c.complete("exec 3f", 7).1, vec!["3f2a0000-0000-4000-8000-000000000000".to_string()]);
        assert_eq!(c.complete("exec Approve D", 14), (13, vec!["Decision=".into()]));
        assert_eq!(c.complete("break R", 7).1, vec!["Route".to_string()]);
        assert_eq!(c.complete("set Ap", 6).1, vec!["Approved".to_string()]);
        assert_eq!(c.complete("Amount + le", 11), (9, vec!["len(".into()]));
        assert_eq!(c.complete("help con", 8).1, vec!["continue".to_string()]);
    }
}
