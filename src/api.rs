//! The library API, shaped after Creatio's `IProcessExecutor`: execute a
//! process by Code or by UId, with or without a key-value collection of
//! string inputs, returning one typed result or a descriptor; execute a
//! waiting element-instance by UId; run in the background.

use crate::check::spec::{ProcessId, ProcessSpec, Program};
use crate::check::{self, LoadError};
use crate::diagnostic::Diagnostic;
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{self, ExecError, ExecOutcome, InputError, Run, RunOptions};
use crate::runtime::instance::{ErrorInfo, Instance, Status};
use crate::runtime::value::Value;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

/// Any error of the library API. Each layer's error keeps its own type.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    /// The `.proc` files do not parse or check.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
    /// An input, a process Code or a result name is wrong; nothing ran.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    /// Executing an element-instance by UId was refused.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Exec(#[from] ExecError),
    /// The process ran and failed: `process failed: element `Divide`: division by zero (at …)`.
    #[error("process failed: {0}")]
    #[diagnostic(code(procdsl::run::failed))]
    Failed(ErrorInfo),
    /// A process with output parameters cannot run in the background.
    #[error("process `{process}` has output parameters ({}), so it cannot run in the background", outputs.join(", "))]
    #[diagnostic(code(procdsl::run::background_outputs), help("run it in the foreground to receive its results"))]
    BackgroundWithOutputs { process: String, outputs: Vec<String> },
}

/// A process with output parameters cannot run in the background, as in
/// Creatio: nobody would receive its results. The library and the service
/// both refuse it here.
pub fn may_run_in_background(spec: &ProcessSpec) -> Result<(), Error> {
    let outputs: Vec<String> = spec.outputs().map(|p| p.code.to_string()).collect();
    if outputs.is_empty() {
        Ok(())
    } else {
        Err(Error::BackgroundWithOutputs { process: spec.code.to_string(), outputs })
    }
}

/// A loaded, checked set of processes and the options to run them with.
///
/// ```
/// use procdsl::Engine;
/// let engine = Engine::from_source("hello.proc", r#"
///     process UsrHello {
///         in  Name: Text = "world"
///         out Greeting: Text
///         start Begin -> Greet
///         script Greet { Greeting = "Hello, {Name}!" } -> Done
///         end Done
///     }
/// "#).unwrap();
/// let greeting = engine.execute_result("UsrHello", [("Name", "Ada")], "Greeting").unwrap();
/// assert_eq!(greeting.to_string(), "Hello, Ada!");
/// ```
#[derive(Clone, Debug)]
pub struct Engine {
    program: Arc<Program>,
    warnings: Arc<Vec<Diagnostic>>,
    options: RunOptions,
}

impl Engine {
    /// Loads and checks `.proc` files (and what they import).
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Engine, LoadError> {
        check::load_files(paths).map(Engine::from_loaded)
    }

    /// Loads and checks one in-memory source.
    pub fn from_source(name: &str, text: &str) -> Result<Engine, LoadError> {
        check::load_str(name, text).map(Engine::from_loaded)
    }

    fn from_loaded(loaded: check::Loaded) -> Engine {
        Engine {
            program: Arc::new(loaded.program),
            warnings: Arc::new(loaded.warnings),
            options: RunOptions::default(),
        }
    }

    /// Runs with these options (step budget, clock, trace).
    pub fn with_options(mut self, options: RunOptions) -> Engine {
        self.options = options;
        self
    }

    /// The checked processes this engine runs.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The checker's warnings.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// A new instance of a process, paused before its first element.
    pub fn start<K: AsRef<str>, V: AsRef<str>>(
        &self,
        code: &str,
        inputs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Instance, InputError> {
        let process = engine::find_process(&self.program, code)?;
        self.start_id(process, inputs)
    }

    fn start_id<K: AsRef<str>, V: AsRef<str>>(
        &self,
        process: ProcessId,
        inputs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Instance, InputError> {
        let mut instance = Instance::new(self.program.clone(), process, jiff::Timestamp::now());
        instance.set_inputs(inputs)?;
        Ok(instance)
    }

    /// Runs an instance until it waits or ends.
    pub fn run(&self, instance: &mut Instance) -> Run {
        let mut run = Run::new(self.options.clone());
        instance.run(&mut run);
        run
    }

    /// Runs a process by Code with string inputs and returns its descriptor
    /// with every `out` and `inout` parameter.
    pub fn execute<K: AsRef<str>, V: AsRef<str>>(
        &self,
        code: &str,
        inputs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Descriptor, Error> {
        let mut instance = self.start(code, inputs)?;
        self.run(&mut instance);
        Ok(instance.descriptor(None))
    }

    /// Runs a process by its schema UId.
    pub fn execute_by_uid<K: AsRef<str>, V: AsRef<str>>(
        &self,
        uid: Uuid,
        inputs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Descriptor, Error> {
        let process = self
            .program
            .find_by_uid(uid)
            .ok_or_else(|| InputError::UnknownProcess { code: uid.to_string(), help: None })?;
        let mut instance = self.start_id(process, inputs)?;
        self.run(&mut instance);
        Ok(instance.descriptor(None))
    }

    /// Runs a process and returns a descriptor with these result parameters;
    /// a name the process lacks is an error and nothing runs.
    pub fn execute_with_results<K: AsRef<str>, V: AsRef<str>>(
        &self,
        code: &str,
        inputs: impl IntoIterator<Item = (K, V)>,
        results: &[String],
    ) -> Result<Descriptor, Error> {
        let process = engine::find_process(&self.program, code)?;
        engine::check_results(self.program.process(process), results)?;
        let mut instance = self.start_id(process, inputs)?;
        self.run(&mut instance);
        Ok(instance.descriptor(Some(results)))
    }

    /// Runs a process and returns one result parameter's typed value. A
    /// failed run is an error.
    pub fn execute_result<K: AsRef<str>, V: AsRef<str>>(
        &self,
        code: &str,
        inputs: impl IntoIterator<Item = (K, V)>,
        result: &str,
    ) -> Result<Value, Error> {
        let process = engine::find_process(&self.program, code)?;
        engine::check_results(self.program.process(process), &[result.to_string()])?;
        let mut instance = self.start_id(process, inputs)?;
        self.run(&mut instance);
        if let (Status::Failed, Some(err)) = (instance.status, &instance.error) {
            return Err(Error::Failed(err.clone()));
        }
        Ok(instance.param(result).cloned().unwrap_or_default())
    }

    /// Executes a waiting element-instance of a live instance by its UId,
    /// with field values, and runs on until it waits again or ends.
    pub fn exec<K: AsRef<str>, V: AsRef<str>>(
        &self,
        instance: &mut Instance,
        uid: Uuid,
        fields: &[(K, V)],
    ) -> Result<ExecOutcome, ExecError> {
        let mut run = Run::new(self.options.clone());
        instance.exec(uid, fields, &mut run)
    }

    /// Starts a process in the background and returns its instance id at
    /// once; the handle yields the descriptor when it waits or ends. A
    /// process with output parameters is refused, as in Creatio.
    pub fn execute_in_background<K: AsRef<str>, V: AsRef<str>>(
        &self,
        code: &str,
        inputs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(Uuid, std::thread::JoinHandle<Descriptor>), Error> {
        let process = engine::find_process(&self.program, code)?;
        may_run_in_background(self.program.process(process))?;
        let mut instance = self.start_id(process, inputs)?;
        let id = instance.id;
        let engine = self.clone();
        let handle = std::thread::spawn(move || {
            engine.run(&mut instance);
            instance.descriptor(None)
        });
        Ok((id, handle))
    }
}
