//! JUnit XML, the report CI systems read: one `testsuite` per file, one
//! `testcase` per test, a `failure` with the message, location and report.

use super::TestResult;
use crate::xml::escape;

/// The results as a JUnit XML document.
pub fn to_xml(results: &[TestResult]) -> String {
    let mut files: Vec<&str> = Vec::new();
    for r in results {
        if !files.contains(&r.file.as_str()) {
            files.push(&r.file);
        }
    }
    let failures = results.iter().filter(|r| !r.passed()).count();
    let time: f64 = results.iter().map(|r| r.seconds).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"procdsl\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.6}\">\n",
        results.len()
    ));
    for file in files {
        let here: Vec<&TestResult> = results.iter().filter(|r| r.file == file).collect();
        let failed = here.iter().filter(|r| !r.passed()).count();
        let time: f64 = here.iter().map(|r| r.seconds).sum();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"{time:.6}\">\n",
            escape(file),
            here.len()
        ));
        for r in here {
            let line = r.line;
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\" time=\"{:.6}\"",
                escape(&r.name),
                escape(file),
                escape(file),
                r.seconds
            ));
            match &r.failure {
                None => out.push_str("/>\n"),
                Some(f) => {
                    out.push_str(">\n");
                    out.push_str(&format!(
                        "      <failure message=\"{}\" type=\"procdsl::test::failed\">{}\n{}</failure>\n",
                        escape(&format!("{} ({})", f.message, f.location)),
                        escape(&f.location),
                        escape(&f.report)
                    ));
                    out.push_str("    </testcase>\n");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
