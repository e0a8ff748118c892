//! A generated process of any size, for the layout's tests and benchmark:
//! blocks of eleven elements with every shape the picture draws (a
//! script with `on error`, an exclusive split and merge, a user task with
//! a deadline and a reminder, a parallel fork of a timer and a signal and
//! its join, and a gateway that loops back), chained one after another.
#![allow(dead_code)]

/// A process `UsrBig` with about `elements` elements (rounded up to whole
/// blocks of eleven, plus a start and an end).
pub fn source(elements: usize) -> String {
    let blocks = elements.saturating_sub(2).div_ceil(11).max(1);
    let mut s = String::from("process UsrBig {\n    caption \"A generated process\"\n    inout Count: Integer = 0\n\n    start Begin -> A0\n");
    for i in 0..blocks {
        let next = if i + 1 == blocks { "Done".to_string() } else { format!("A{}", i + 1) };
        s.push_str(&format!(
            r#"
    script A{i} "Prepare item {i}" {{ Count = Count + 1 }} -> G{i}
    exclusive G{i} {{
        when Count > {i} and Count < 1000 -> U{i}
        else -> B{i}
    }}
    user U{i} "Approve item {i}, a caption long enough to need wrapping in its box" {{
        in Ok: Boolean = true
    }} -> M{i}
        deadline "P3D" -> M{i}
        every "P1D" -> M{i}
    script B{i} {{ Count = Count + 2 }} -> M{i} on error -> F{i}
    script F{i} {{ log "failed" }} -> M{i}
    exclusive M{i} -> P{i}
    parallel P{i} -> T{i}, S{i}
    timer T{i} after "PT1H" -> J{i}
    signal S{i} "go{i}" -> J{i}
    parallel J{i} -> L{i}
    exclusive L{i} {{
        when Count < 0 -> A{i}
        else -> {next}
    }}
"#
        ));
    }
    s.push_str("    end Done\n}\n");
    s
}
