//! `procdsl store migrate FROM TO [--merge]`: copies every definition and
//! instance of one store into another, whatever their backends (SQLite into
//! PostgreSQL and back), with `store::copy_all`.

use super::{report, EXIT_INVALID, EXIT_OK};
use procdsl::store::{self, copy_all, Location};

#[derive(clap::Subcommand, Debug)]
pub enum StoreCommand {
    /// Copy every definition and instance of one store into another (SQLite into PostgreSQL and back).
    #[command(after_help = super::examples::STORE_MIGRATE)]
    Migrate(MigrateArgs),
}

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// The store to copy from: a SQLite file or a postgres:// URL. It must exist; it is only read.
    #[arg(value_name = "FROM")]
    pub from: Location,
    /// The store to copy into: a SQLite file (created when missing) or a postgres:// URL.
    #[arg(value_name = "TO")]
    pub to: Location,
    /// Copy into a store that holds instances already: those with the same id are replaced by the copy, the others are kept.
    #[arg(long)]
    pub merge: bool,
}

pub fn store(command: StoreCommand) -> i32 {
    match command {
        StoreCommand::Migrate(args) => migrate(args),
    }
}

fn migrate(args: MigrateArgs) -> i32 {
    if args.from.same_as(&args.to) {
        eprintln!("error: `{}` is both FROM and TO; give two different stores", args.from);
        return EXIT_INVALID;
    }
    let opened = store::open_rows(&args.from, false).and_then(|from| Ok((from, store::open_rows(&args.to, true)?)));
    let (mut from, mut to) = match opened {
        Ok(both) => both,
        Err(e) => {
            report(&e);
            return EXIT_INVALID;
        }
    };
    if !args.merge {
        match to.instance_rows("", 1) {
            Ok(rows) if rows.is_empty() => {}
            Ok(_) => {
                eprintln!("error: the store `{}` already holds instances; nothing was copied", args.to);
                eprintln!(
                    "  help: copy into a new or empty store, or pass --merge to replace the instances with the same \
                     id and keep the others"
                );
                return EXIT_INVALID;
            }
            Err(e) => {
                report(&e);
                return EXIT_INVALID;
            }
        }
    }
    match copy_all(&mut *from, &mut *to) {
        Ok(copied) => {
            let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            println!(
                "copied {}, {} ({}) from {} into {}",
                plural(copied.programs, "definition", "definitions"),
                plural(copied.instances, "instance", "instances"),
                plural(copied.element_instances, "element-instance", "element-instances"),
                args.from,
                args.to
            );
            EXIT_OK
        }
        Err(e) => {
            report(&e);
            eprintln!("  help: what was copied before stays in `{}`; run the command again with --merge", args.to);
            EXIT_INVALID
        }
    }
}
