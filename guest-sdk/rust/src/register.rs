//! The registry of named flows with typed parameters (list_flows, build).

use crate::flow::Dataflow;
use std::fmt::Display;

/// Argument types of the wire (docs/abi.md section 9).
pub(crate) const ARG_STRING: u8 = 1;
pub(crate) const ARG_INT: u8 = 2;
pub(crate) const ARG_FLOAT: u8 = 3;
pub(crate) const ARG_BOOL: u8 = 4;

/// The name of an argument type, as in messages.
pub(crate) fn type_name(t: u8) -> String {
    match t {
        ARG_STRING => "string".to_string(),
        ARG_INT => "int".to_string(),
        ARG_FLOAT => "float64".to_string(),
        ARG_BOOL => "bool".to_string(),
        _ => format!("ArgType({})", t),
    }
}

/// An argument the host sends to a flow factory.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Arg {
    pub(crate) fn type_code(&self) -> u8 {
        match self {
            Arg::Str(_) => ARG_STRING,
            Arg::Int(_) => ARG_INT,
            Arg::Float(_) => ARG_FLOAT,
            Arg::Bool(_) => ARG_BOOL,
        }
    }
}

/// A type a flow factory can take as a parameter: `String`, `i64`, `f64`
/// (which also accepts an int literal) or `bool`.
pub trait Param: Sized {
    /// The wire's argument type.
    #[doc(hidden)]
    fn type_code() -> u8;
    /// The value of an argument, or None if it has another type.
    #[doc(hidden)]
    fn from_arg(a: &Arg) -> Option<Self>;
}

impl Param for String {
    fn type_code() -> u8 {
        ARG_STRING
    }
    fn from_arg(a: &Arg) -> Option<Self> {
        match a {
            Arg::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl Param for i64 {
    fn type_code() -> u8 {
        ARG_INT
    }
    fn from_arg(a: &Arg) -> Option<Self> {
        match a {
            Arg::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl Param for f64 {
    fn type_code() -> u8 {
        ARG_FLOAT
    }
    fn from_arg(a: &Arg) -> Option<Self> {
        match a {
            Arg::Float(f) => Some(*f),
            Arg::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl Param for bool {
    fn type_code() -> u8 {
        ARG_BOOL
    }
    fn from_arg(a: &Arg) -> Option<Self> {
        match a {
            Arg::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// What a flow factory returns: a `Dataflow`, or a `Result` whose error
/// refuses the arguments (`flow factory failed: NAME: MESSAGE`).
pub trait IntoFlow {
    #[doc(hidden)]
    fn into_flow(self) -> Result<Dataflow, String>;
}

impl IntoFlow for Dataflow {
    fn into_flow(self) -> Result<Dataflow, String> {
        Ok(self)
    }
}

impl<E: Display> IntoFlow for Result<Dataflow, E> {
    fn into_flow(self) -> Result<Dataflow, String> {
        self.map_err(|e| e.to_string())
    }
}

/// A flow factory: a closure or fn of up to eight `Param`s returning an
/// `IntoFlow`. `M` is the tuple of its parameter types.
pub trait Factory<M> {
    #[doc(hidden)]
    fn types() -> Vec<u8>;
    /// Calls the factory; Err(i) when argument i has the wrong type.
    #[doc(hidden)]
    fn call(&mut self, args: &[Arg]) -> Result<Result<Dataflow, String>, usize>;
}

macro_rules! factory {
    ($($p:ident $i:tt),*) => {
        impl<F, R, $($p: Param),*> Factory<($($p,)*)> for F
        where
            F: FnMut($($p),*) -> R,
            R: IntoFlow,
        {
            fn types() -> Vec<u8> {
                vec![$($p::type_code()),*]
            }
            #[allow(unused_variables)]
            fn call(&mut self, args: &[Arg]) -> Result<Result<Dataflow, String>, usize> {
                Ok(self($($p::from_arg(&args[$i]).ok_or($i as usize)?),*).into_flow())
            }
        }
    };
}

factory!();
factory!(A 0);
factory!(A 0, B 1);
factory!(A 0, B 1, C 2);
factory!(A 0, B 1, C 2, D 3);
factory!(A 0, B 1, C 2, D 3, E 4);
factory!(A 0, B 1, C 2, D 3, E 4, G 5);
factory!(A 0, B 1, C 2, D 3, E 4, G 5, H 6);
factory!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7);

pub(crate) struct FlowDef {
    pub name: String,
    pub params: Vec<(String, u8)>,
    call: Box<dyn FnMut(&[Arg]) -> Result<Result<Dataflow, String>, usize>>,
}

impl FlowDef {
    /// The factory's signature for messages: `name(path string, n int)`.
    pub(crate) fn signature(&self) -> String {
        let ps: Vec<String> = self.params.iter().map(|(n, t)| format!("{} {}", n, type_name(*t))).collect();
        format!("{}({})", self.name, ps.join(", "))
    }

    /// Checks the arguments and calls the factory.
    pub(crate) fn build(&mut self, args: &[Arg]) -> Result<Dataflow, String> {
        if args.len() != self.params.len() {
            return Err(format!(
                "bad arguments: {} takes {} argument(s), got {}",
                self.signature(),
                self.params.len(),
                args.len()
            ));
        }
        match (self.call)(args) {
            Err(i) => Err(format!(
                "bad arguments: argument {} ({}) of {}: want {}, got {}",
                i + 1,
                self.params[i].0,
                self.signature(),
                type_name(self.params[i].1),
                type_name(args[i].type_code())
            )),
            Ok(Err(e)) => Err(format!("flow factory failed: {}: {}", self.name, e)),
            Ok(Ok(flow)) => Ok(flow),
        }
    }
}

/// The flows a module offers, in registration order. The module's
/// registration function (given to `bxwasm::export!`) fills it once.
#[derive(Default)]
pub struct Registry {
    pub(crate) defs: Vec<FlowDef>,
}

impl Registry {
    /// Makes the flow factory `factory` known to the host as `name`.
    /// `params` names its parameters for the command line (missing names
    /// are "arg0", "arg1"...). Panics on an empty or duplicate name, on
    /// more names than parameters and on a parameter name used twice.
    ///
    /// ```ignore
    /// r.register("get_flow", &["path"], |path: String| wordcount(&path));
    /// ```
    pub fn register<M, F: Factory<M> + 'static>(&mut self, name: &str, params: &[&str], factory: F) {
        if name.is_empty() {
            panic!("bxwasm: register: empty flow name");
        }
        if self.defs.iter().any(|d| d.name == name) {
            panic!("bxwasm: register: flow {:?} registered twice", name);
        }
        let types = F::types();
        if params.len() > types.len() {
            panic!("bxwasm: register({:?}): {} parameter names for a factory with {} parameters", name, params.len(), types.len());
        }
        let mut ps: Vec<(String, u8)> = Vec::new();
        for (i, t) in types.into_iter().enumerate() {
            let n = params.get(i).map(|s| s.to_string()).unwrap_or_else(|| format!("arg{}", i));
            if ps.iter().any(|(m, _)| *m == n) {
                panic!("bxwasm: register({:?}): parameter name {:?} used twice", name, n);
            }
            ps.push((n, t));
        }
        let mut f = factory;
        self.defs.push(FlowDef { name: name.to_string(), params: ps, call: Box::new(move |a: &[Arg]| f.call(a)) });
    }

    pub(crate) fn lookup(&mut self, name: &str) -> Result<&mut FlowDef, String> {
        if let Some(i) = self.defs.iter().position(|d| d.name == name) {
            return Ok(&mut self.defs[i]);
        }
        if self.defs.is_empty() {
            return Err(format!(
                "unknown flow {:?}: this module registers no flows (register them in the function given to bxwasm::export!)",
                name
            ));
        }
        let known: Vec<String> = self.defs.iter().map(|d| d.signature()).collect();
        Err(format!("unknown flow {:?}; this module has: {}", name, known.join(", ")))
    }
}
