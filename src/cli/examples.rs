//! The examples that end each command's `--help`, and where the docs are.
//! tests/cli_help.rs checks that every command has them.

macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!(
            "Examples:\n",
            $("  ", $line, "\n",)+
            "\nMore: docs/CLI.md and README.md in the procdsl repository."
        )
    };
}

pub const PROCDSL: &str = "Start with `procdsl run examples/hello.proc`; `procdsl COMMAND --help` shows each \
                           command with examples.\nMore: README.md and docs/CLI.md in the procdsl repository.";

pub const RUN: &str = examples!(
    "procdsl run examples/approval.proc -p Amount=20",
    "procdsl run examples/approval.proc -p Amount=5000 --store orders.db   # waits; continue with exec",
    "procdsl run lines.proc -p Lines=@lines.json -r Total                  # a value from a file",
    "procdsl run lines.proc --params inputs.json --json                    # {\"Code\": value, …}",
);

pub const CHECK: &str = examples!("procdsl check examples/*.proc");

pub const FMT: &str = examples!(
    "procdsl fmt order.proc                  # rewrite it in place",
    "procdsl fmt examples/                   # every .proc file under a folder",
    "procdsl fmt --check examples/           # list what differs; exit 1 if anything does",
    "procdsl fmt - < order.proc > tidy.proc  # standard input to standard output",
);

pub const EXEC: &str = examples!(
    "procdsl exec 164cf42a-ab39-48e6-a51d-03fe20dae411 -p Decision=true --store orders.db",
    "procdsl exec 164c -p Decision=true -p Comment=@comment.txt --store orders.db   # a unique prefix",
);

pub const INSTANCES: &str = examples!(
    "procdsl instances --store orders.db",
    "procdsl instances --status Waiting --process UsrApproval --store orders.db --json",
    "procdsl instances --store postgres://procdsl@db.internal/procdsl   # a PostgreSQL store",
);

pub const SHOW: &str = examples!("procdsl show b715 --store orders.db   # a unique prefix of the id");

pub const CANCEL: &str = examples!("procdsl cancel b715bd07-f614-4d9f-bcd0-24a3108a080e --store orders.db");

pub const SIGNAL: &str = examples!("procdsl signal OrderPaid --store orders.db");

pub const TICK: &str =
    examples!("procdsl tick --store orders.db", "procdsl tick --now 2026-12-01T09:00:00Z --store orders.db",);

pub const STORE: &str =
    examples!("procdsl store migrate orders.db postgres://procdsl@db.internal/procdsl   # SQLite into PostgreSQL",);

pub const STORE_MIGRATE: &str = examples!(
    "procdsl store migrate orders.db postgres://procdsl@db.internal/procdsl   # SQLite into PostgreSQL",
    "procdsl store migrate postgres://procdsl@db.internal/procdsl backup.db   # and back",
    "procdsl store migrate new.db orders.db --merge                          # into a store in use",
);

pub const GRAPH: &str = examples!(
    "procdsl graph examples/approval.proc --format svg > approval.svg",
    "procdsl graph examples/order_approval.proc > order.mmd          # Mermaid, for Markdown",
    "procdsl graph --instance 72b0 --store orders.db --format svg > path.svg   # the path it took",
);

pub const REPL: &str = examples!(
    "procdsl repl examples/approval.proc",
    "procdsl repl examples/approval.proc --store orders.db   # work on the stored instances",
    "procdsl repl examples/approval.proc < session.txt       # one input per line",
);

pub const BENCH: &str = examples!(
    "procdsl bench examples/approval.proc -n 100000 -p Amount=20",
    "procdsl bench examples/approval.proc -p Amount=5000 --resume --json",
);

pub const LSP: &str =
    examples!("procdsl lsp   # started by an editor, which speaks LSP on its stdin and stdout (docs/EDITORS.md)",);

pub const TEST: &str = examples!(
    "procdsl test examples/",
    "procdsl test order.proc --filter manager --junit results.xml",
    "procdsl test examples/ --coverage --json",
    "procdsl test examples/ --coverage --svg coverage/   # a picture per process",
);

#[cfg(feature = "service")]
pub const SERVE: &str = examples!(
    "procdsl serve examples/ --store orders.db",
    "procdsl serve processes/ --addr 0.0.0.0:8080 --users users.json --store orders.db",
);
