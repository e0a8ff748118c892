//! The REPL's commands: one table serves `help`, tab completion and
//! "did you mean".

/// One command of the REPL.
pub struct CommandHelp {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
    /// What `help NAME` adds to the summary.
    pub detail: &'static str,
}

pub const COMMANDS: &[CommandHelp] = &[
    CommandHelp {
        name: "load",
        usage: "load FILE…",
        summary: "load .proc files (and what they import)",
        detail: "The files are checked together with those loaded before; on an error nothing changes.",
    },
    CommandHelp {
        name: "reload",
        usage: "reload",
        summary: "load the files again after an edit",
        detail: "New instances use the edited definitions; instances already started keep running on the \
                 definition they started with, and `instances` marks them.",
    },
    CommandHelp {
        name: "start",
        usage: "start CODE [Code=Value…]",
        summary: "create an instance paused before its first element; it becomes the current one",
        detail: "Values are converted as `procdsl run -p` converts them; quote a value with spaces: \
                 Comment=\"looks good\". Code=@FILE takes the value from a file (a big list), \
                 Code=@@TEXT stands for @TEXT.",
    },
    CommandHelp {
        name: "run",
        usage: "run CODE [Code=Value…]",
        summary: "create an instance and run it until it waits, hits a breakpoint or ends",
        detail: "`run` is `start` followed by `continue`.",
    },
    CommandHelp {
        name: "step",
        usage: "step [N]",
        summary: "execute the next pending element (N of them)",
        detail: "Shows each element that ran, the parameters it changed (old → new), its log lines and \
                 what is pending next. Stepping more than one stops before an element with a breakpoint. \
                 When nothing else can run, the next due timer fires (virtual time).",
    },
    CommandHelp {
        name: "continue",
        usage: "continue",
        summary: "run until a wait state, a breakpoint or the end",
        detail: "Stops before an element with a breakpoint; the element it starts from runs even if it has one.",
    },
    CommandHelp {
        name: "pending",
        usage: "pending",
        summary: "the pending and waiting element-instances, with their UIds",
        detail: "Pending element-instances are ready to run (`step` runs the first); waiting ones wait for \
                 `exec` (user tasks with their fields), a signal or a timer. A sub-process's are listed too.",
    },
    CommandHelp {
        name: "exec",
        usage: "exec UID|NAME [Field=Value…]",
        summary: "execute that element-instance of the current instance, then stop",
        detail: "Give the element-instance's UId (a unique prefix is enough) or the element's name when \
                 exactly one of its element-instances is pending or waiting. A user task takes its fields \
                 as Field=Value (Field=@FILE reads the value from a file); a user task that is still \
                 pending is started and executed with them. Only that element runs, as with `step`; `continue` runs on. Breakpoints \
                 do not apply to it.",
    },
    CommandHelp {
        name: "break",
        usage: "break [NAME]",
        summary: "stop before every element called NAME; alone, list the breakpoints",
        detail: "Breakpoints hold for every instance and process of the session.",
    },
    CommandHelp {
        name: "unbreak",
        usage: "unbreak [NAME]",
        summary: "remove the breakpoint on NAME; alone, remove them all",
        detail: "",
    },
    CommandHelp {
        name: "params",
        usage: "params",
        summary: "the current instance's parameters with their values",
        detail: "",
    },
    CommandHelp {
        name: "set",
        usage: "set Code = expr",
        summary: "change a parameter of the current instance",
        detail: "The same as typing `Code = expr`: any parameter may be set, and the value must fit its type.",
    },
    CommandHelp {
        name: "log",
        usage: "log",
        summary: "the current instance's log",
        detail: "`log expr` (with an expression) is the statement: it writes a line to the log.",
    },
    CommandHelp {
        name: "trace",
        usage: "trace [N]",
        summary: "the elements the current instance executed in this session (the last N)",
        detail: "Each with the parameters it changed, old → new.",
    },
    CommandHelp {
        name: "instances",
        usage: "instances",
        summary: "the session's instances; `*` marks the current one",
        detail: "",
    },
    CommandHelp {
        name: "use",
        usage: "use ID",
        summary: "make another instance the current one",
        detail: "ID is the number `instances` shows (`2` or `#2`) or a unique prefix of the instance id.",
    },
    CommandHelp {
        name: "advance",
        usage: "advance DURATION",
        summary: "move the current instance's clock on (ISO 8601, e.g. PT2H or P1D)",
        detail: "Timers due by then fire: their element-instances become pending, and `step` runs them.",
    },
    CommandHelp {
        name: "test",
        usage: "test [FILTER]",
        summary: "run the loaded files' tests (those whose name contains FILTER)",
        detail: "One line per test, then `N passed, M failed`. The first failing test's instances stay in \
                 the session, the newest current, as the test left them: `params`, `log` and `pending` \
                 show where it went wrong.",
    },
    CommandHelp { name: "help", usage: "help [COMMAND]", summary: "this list, or more about one command", detail: "" },
    CommandHelp { name: "quit", usage: "quit", summary: "end the session (also `exit` or Ctrl-D)", detail: "" },
];

/// Every word that starts a command, for completion and "did you mean".
pub fn command_names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|c| c.name).chain(["exit"])
}

pub fn find(name: &str) -> Option<&'static CommandHelp> {
    let name = if name == "exit" { "quit" } else { name };
    COMMANDS.iter().find(|c| c.name == name)
}

/// `help`: every command in one line each.
pub fn overview() -> String {
    let width = COMMANDS.iter().map(|c| c.usage.chars().count()).max().unwrap_or(0);
    let mut out = String::from("commands:\n");
    for c in COMMANDS {
        out.push_str(&format!("  {:width$}  {}\n", c.usage, c.summary));
    }
    out.push_str(&format!(
        "  {:width$}  {}\n",
        "anything else",
        "an expression (its value is shown) or statements, \
                                                                 run against the current instance's parameters"
    ));
    out.push_str("`help COMMAND` tells more. Tab completes commands, Codes, element names and UIds.\n");
    out
}

/// `help NAME`.
pub fn about(c: &CommandHelp) -> String {
    let mut out = format!("{}\n  {}\n", c.usage, c.summary);
    if !c.detail.is_empty() {
        out.push_str(&format!("  {}\n", c.detail));
    }
    out
}
