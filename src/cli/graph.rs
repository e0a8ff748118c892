//! `procdsl graph FILE [--process CODE] [--format svg|mermaid|dot]` and
//! `procdsl graph --instance ID --store S`: draws a process, or the path
//! one instance took through it ([`procdsl::graph`] does the drawing).

use super::run::load_process;
use super::store_commands::{fail, not_found};
use super::{EXIT_INVALID, EXIT_OK};
use procdsl::app;
use procdsl::check::spec::{ProcessSpec, Program};
use procdsl::graph::{self, InstancePath};
use procdsl::store::{self, Location};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// The .proc file (not with --instance: the instance knows its definition).
    #[arg(required_unless_present = "instance", conflicts_with = "instance")]
    pub file: Option<PathBuf>,
    /// The process to draw, when the file holds several.
    #[arg(long, value_name = "CODE", conflicts_with = "instance")]
    pub process: Option<String>,
    /// svg (drawn by procdsl), mermaid (paste into Markdown) or dot (Graphviz).
    #[arg(long, default_value = "mermaid")]
    pub format: String,
    /// Draw this instance's process with the path it took: its id, or its
    /// first characters. Needs --store.
    #[arg(long, value_name = "ID", requires = "store")]
    pub instance: Option<String>,
    /// The store that keeps the instance: a SQLite file, or postgres://USER@HOST[:PORT]/DB.
    #[arg(long, env = "PROCDSL_STORE", hide_env_values = true, value_name = "PATH|URL")]
    pub store: Option<Location>,
}

#[derive(Clone, Copy)]
enum Format {
    Svg,
    Mermaid,
    Dot,
}

pub fn graph(args: GraphArgs) -> i32 {
    let format = match args.format.to_ascii_lowercase().as_str() {
        "svg" => Format::Svg,
        "mermaid" => Format::Mermaid,
        "dot" => Format::Dot,
        _ => {
            eprintln!("error: unknown format `{}`; use svg, mermaid or dot", args.format);
            return EXIT_INVALID;
        }
    };
    if let (Some(text), Some(location)) = (&args.instance, &args.store) {
        return instance(text, location, format);
    }
    let Some(file) = &args.file else {
        eprintln!("error: give a .proc file, or --instance ID with --store");
        return EXIT_INVALID;
    };
    let (program, process) = match load_process(file, args.process.as_deref()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    print!("{}", draw(format, &program, program.process(process), None));
    EXIT_OK
}

/// The picture of a stored instance with its path.
fn instance(text: &str, location: &Location, format: Format) -> i32 {
    let mut store = match store::open(location, false) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let id = match app::resolve_instance(&mut *store, text) {
        Ok(id) => id,
        Err(e) => return not_found(e),
    };
    let instance = match store.load(id) {
        Ok(instance) => instance,
        Err(e) => return fail(e),
    };
    let path = InstancePath::of(&instance);
    print!("{}", draw(format, &instance.program, instance.spec(), Some(&path)));
    EXIT_OK
}

fn draw(format: Format, program: &Program, process: &ProcessSpec, path: Option<&InstancePath>) -> String {
    match format {
        Format::Svg => graph::svg(program, process, path),
        Format::Mermaid => graph::mermaid(program, process, path),
        Format::Dot => graph::dot(program, process, path),
    }
}
