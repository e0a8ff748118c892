//! The OpenAPI 3 document of the service (`GET /api/openapi.json`),
//! written to match what the routes accept and return. A test checks that
//! every route of the router is in it.

use super::{API_ROUTES, CREATIO_ROUTES, PREFIXES};
use serde_json::{json, Map, Value};

fn error_responses() -> Value {
    let err = json!({ "description": "a JSON error", "content": { "application/json": {
        "schema": { "$ref": "#/components/schemas/Error" } } } });
    let mut unavailable = err.clone();
    unavailable["description"] = json!(
        "a JSON error: the service is busy, the request ran out of time, or the store cannot be reached; \
        try again after Retry-After seconds"
    );
    unavailable["headers"] = json!({ "Retry-After": { "description": "seconds to wait before trying again",
        "schema": { "type": "integer", "minimum": 0 } } });
    json!({
        "400": err, "401": err, "403": err, "404": err, "405": err, "409": err, "413": err,
        "415": err, "422": err, "431": err, "503": unavailable,
    })
}

/// A Creatio-form answer: XML-wrapped text, or JSON with `Accept: application/json`.
fn creatio_ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": {
        "application/xml": { "schema": { "type": "string",
            "description": "the value as text (JSON for lists and objects) in <string xmlns=\"http://schemas.microsoft.com/2003/10/Serialization/\">" } },
        "application/json": { "schema": schema },
    }})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" }, "description": description })
}

fn uuid_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" },
        "description": description })
}

/// Creatio's Login answer: `Exception` is null on success, an object with
/// the `Message` on failure.
fn login_answer(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "type": "object",
        "required": ["Code", "Message", "Exception"],
        "properties": {
            "Code": { "type": "integer", "enum": [0, 1] },
            "Message": { "type": "string" },
            "Exception": { "type": "object", "nullable": true, "properties": {
                "Message": { "type": "string" }, "Type": { "type": "string" } } },
            "PasswordChangeUrl": { "type": "string", "nullable": true },
            "RedirectUrl": { "type": "string", "nullable": true } } } } } })
}

/// The headers of every Execute and RunProcess answer about an instance.
fn instance_headers() -> Value {
    json!({
        "X-Procdsl-Instance-Id": { "description": "the instance the answer is about",
            "schema": { "type": "string", "format": "uuid" } },
        "X-Procdsl-Status": { "description": "where it stands: Running, Waiting, Completed, Failed or Cancelled",
            "schema": { "type": "string", "enum": ["Running", "Waiting", "Completed", "Failed", "Cancelled"] } },
    })
}

fn operation(method: &str, path: &str) -> Value {
    let mut responses = error_responses();
    let mut op = Map::new();
    let p = path;
    if p.ends_with("/AuthService.svc/Login") {
        op.insert("summary".into(), json!("Signs in; sets the .ASPXAUTH, BPMCSRF and BPMSESSIONID cookies"));
        op.insert("security".into(), json!([]));
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": {
            "type": "object", "required": ["UserName", "UserPassword"],
            "properties": { "UserName": { "type": "string" }, "UserPassword": { "type": "string" } } } } } }),
        );
        responses["200"] = login_answer("Code 0: signed in (with cookies); Code 1: wrong credentials (no session)");
        responses["408"] = login_answer("the body did not arrive in time");
        responses["429"] = login_answer("too many failures for this user or address; wait Retry-After seconds");
        responses["503"] = login_answer("every password check is busy; try again after Retry-After seconds");
    } else if p.ends_with("/AuthService.svc/Logout") {
        op.insert(
            "summary".into(),
            json!(
                "Signs out: ends the session of the .ASPXAUTH cookie (with the BPMCSRF header) and clears the cookies"
            ),
        );
        responses["200"] = json_ok(
            "signed out",
            json!({ "type": "object", "properties": { "Code": { "type": "integer" }, "Message": { "type": "string" } } }),
        );
    } else if p.ends_with("/Execute") {
        op.insert("summary".into(), json!("Runs a process by Code. With ResultParameterName: waits and returns that value (null when the process has no such parameter). Without: starts it in the background and returns the instance id; refused (400) for a process with output parameters"));
        op.insert(
            "parameters".into(),
            json!([
                path_param("code", "the process Code"),
                { "name": "ResultParameterName", "in": "query", "required": false, "schema": { "type": "string" } },
            ]),
        );
        op.insert(
            "description".into(),
            json!(
                "Any other query parameter is an input of the process, converted like `-p`; \
            which ones exist depends on the process (GET /api/processes/{code}), so this document lists none: \
            an input the process lacks is a 400."
            ),
        );
        if method == "post" {
            op.insert(
                "requestBody".into(),
                json!({ "required": false, "content": { "application/json": { "schema": {
                "type": "object", "maxProperties": 0,
                "description": "more inputs, Code → value: which ones exist depends on the process, so this document allows none" } } } }),
            );
        }
        responses["200"] = creatio_ok("the result value, or the background instance's id", json!({}));
        responses["200"]["headers"] = instance_headers();
    } else if p.contains("/ExecProcElByUId/") {
        op.insert(
            "summary".into(),
            json!("Executes a waiting element-instance by its UId and runs on; 409 when it was already executed"),
        );
        op.insert("parameters".into(), json!([uuid_param("uid", "the element-instance UId"),]));
        if method == "post" {
            op.insert(
                "requestBody".into(),
                json!({ "required": false, "content": { "application/json": { "schema": {
                "type": "object", "description": "field values: name → value" } } } }),
            );
        }
        responses["200"] =
            creatio_ok("the instance's descriptor", json!({ "$ref": "#/components/schemas/Descriptor" }));
    } else if p.ends_with("/RunProcess") {
        op.insert("summary".into(), json!("Runs a process until it waits or ends"));
        op.insert(
            "parameters".into(),
            json!([{ "name": "Idempotency-Key", "in": "header", "required": false,
                "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$" },
                "description": "a key of the client's choosing: the same request sent again with it (after a lost \
                    answer or a 503) starts nothing new and gets the first answer, marked Idempotent-Replayed" }]),
        );
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": {
            "type": "object",
            "anyOf": [ { "required": ["schemaName"] }, { "required": ["schemaUId"] } ],
            "properties": {
                "schemaName": { "type": "string" },
                "schemaUId": { "type": "string", "format": "uuid" },
                "parameterValues": { "oneOf": [
                    { "type": "object" },
                    { "type": "array", "items": { "type": "object", "required": ["name"],
                        "properties": { "name": { "type": "string" }, "value": {} } } } ] },
                "resultParameterNames": { "type": "array", "items": { "type": "string" } },
            } } } } }),
        );
        responses["200"] = creatio_ok(
            "the descriptor with processStatus, success and errorInfo",
            json!({ "allOf": [
            { "$ref": "#/components/schemas/Descriptor" },
            { "type": "object", "properties": {
                "processStatus": { "type": "integer", "description": "0 inactive, 1 running, 2 done, 3 error, 4 cancelled" },
                "success": { "type": "boolean" },
                "errorInfo": { "$ref": "#/components/schemas/ErrorInfo" } } } ] }),
        );
        responses["200"]["headers"] = instance_headers();
    } else if p.ends_with("/CancelExecution") {
        op.insert("summary".into(), json!("Cancels instances"));
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": { "oneOf": [
            { "type": "array", "items": { "type": "string", "format": "uuid" } },
            { "type": "string", "format": "uuid", "description": "one id" } ] } } } }),
        );
        responses["200"] = creatio_ok(
            "one entry per id: its status, or its error",
            json!({ "type": "array", "items": {
            "type": "object", "properties": { "processId": { "type": "string", "format": "uuid" }, "status": { "type": "string" },
            "error": { "$ref": "#/components/schemas/Error/properties/error" } } } }),
        );
    } else if p == "/api/processes" {
        op.insert("summary".into(), json!("The processes the service runs"));
        responses["200"] =
            json_ok("processes", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Process" } }));
    } else if p == "/api/processes/{code}" {
        op.insert("summary".into(), json!("One process, with its elements"));
        op.insert("parameters".into(), json!([path_param("code", "the process Code")]));
        responses["200"] = json_ok("the process", json!({ "$ref": "#/components/schemas/Process" }));
    } else if p == "/api/instances" {
        op.insert("summary".into(), json!("The stored instances, oldest first"));
        op.insert(
            "parameters".into(),
            json!([
                { "name": "status", "in": "query", "required": false, "schema": { "type": "string",
                    "enum": ["Running", "Waiting", "Completed", "Failed", "Cancelled"] } },
                { "name": "process", "in": "query", "required": false, "schema": { "type": "string" } },
                { "name": "limit", "in": "query", "required": false,
                  "schema": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 1000 } },
                { "name": "after", "in": "query", "required": false, "schema": { "type": "string",
                    "pattern": "^[0-9A-Za-z:.-]{24}~[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$" },
                  "description": "the Next-Cursor of the page before: this page starts after it" },
            ]),
        );
        responses["200"] = json_ok(
            "instances",
            json!({ "type": "array", "items": { "type": "object", "properties": {
            "id": { "type": "string", "format": "uuid" }, "process": { "type": "string" }, "status": { "type": "string" },
            "waiting": { "type": "integer" }, "version": { "type": "integer" },
            "created": { "type": "string" }, "updated": { "type": "string" } } } }),
        );
        responses["200"]["headers"] = json!({
            "Next-Cursor": { "description": "on a full page: where the next page starts (give it as `after`)",
                "schema": { "type": "string" } },
            "Link": { "description": "on a full page: the next page's address, rel=\"next\"",
                "schema": { "type": "string" } },
        });
    } else if p == "/api/instances/{id}" {
        op.insert("summary".into(), json!("One instance's descriptor, with its log"));
        op.insert("parameters".into(), json!([uuid_param("id", "the instance id")]));
        responses["200"] = json_ok("the descriptor", json!({ "$ref": "#/components/schemas/Descriptor" }));
    } else if p == "/api/signals/{name}" {
        op.insert("summary".into(), json!("Throws a signal to every stored instance waiting for it"));
        op.insert(
            "parameters".into(),
            json!([{ "name": "name", "in": "path", "required": true,
            "schema": { "type": "string", "pattern": "\\S" }, "description": "the signal (not blank)" }]),
        );
        responses["200"] = json_ok(
            "the instances that moved",
            json!({ "type": "object", "properties": {
            "signal": { "type": "string" },
            "woken": { "type": "array", "items": { "$ref": "#/components/schemas/Descriptor" } } } }),
        );
    } else if p == "/api/openapi.json" {
        op.insert("summary".into(), json!("This document"));
        responses["200"] = json_ok("OpenAPI 3", json!({ "type": "object" }));
    } else if p == "/health" {
        op.insert("summary".into(), json!("Health; needs no sign-in"));
        op.insert("security".into(), json!([]));
        responses["200"] = json_ok(
            "ok",
            json!({ "type": "object", "properties": {
            "status": { "type": "string" }, "version": { "type": "string" } } }),
        );
    } else if let Some(rest) = p.strip_prefix("/0/odata/") {
        odata_operation(rest, &mut op, &mut responses);
    } else if p == "/Login/NuiLogin.aspx" {
        op.insert("summary".into(), json!("The login page a stale OData session is sent to"));
        op.insert("security".into(), json!([]));
        responses["200"] = json!({ "description": "a page saying how to sign in",
            "content": { "text/html": { "schema": { "type": "string" } } } });
    } else if p == "/metrics" {
        op.insert("summary".into(), json!("Prometheus metrics"));
        responses["200"] = json!({ "description": "Prometheus text format",
            "content": { "text/plain": { "schema": { "type": "string" } } } });
    }
    op.insert("responses".into(), responses);
    Value::Object(op)
}

/// The OData routes: `{entitySet}`, `{entitySet}/$count`, `SysProcessLog({id})`.
fn odata_operation(rest: &str, op: &mut Map<String, Value>, responses: &mut Value) {
    let set = json!({ "name": "entitySet", "in": "path", "required": true,
        "schema": { "type": "string", "enum": ["SysProcessLog", "VwProcessLib", "Account", "Contact"] },
        "description": "SysProcessLog: the stored instances; VwProcessLib: the processes; Account, Contact: always empty" });
    let found = json!({ "description": "a stale session (unknown .ASPXAUTH cookie): to the login page, as Creatio",
        "headers": { "Location": { "schema": { "type": "string" } } } });
    responses["302"] = found;
    if rest == "{entitySet}/$count" {
        op.insert(
            "summary".into(),
            json!("How many entities a set has (what Creatio clients probe their session with)"),
        );
        op.insert("parameters".into(), json!([set]));
        responses["200"] = json!({ "description": "the number, as text",
            "content": { "text/plain": { "schema": { "type": "string", "pattern": "^[0-9]+$" } } } });
    } else if rest == "{entitySet}" {
        op.insert("summary".into(), json!("The entities of a set, oldest first"));
        op.insert("parameters".into(), json!([set,
            { "name": "$top", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "maximum": 1000, "default": 100 } },
            { "name": "$skip", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "maximum": 10000 } },
            { "name": "$count", "in": "query", "required": false, "schema": { "type": "boolean" } }]));
        responses["200"] = json_ok(
            "OData 4 JSON",
            json!({ "type": "object", "required": ["value"], "properties": {
            "@odata.context": { "type": "string" }, "@odata.count": { "type": "integer" },
            "value": { "type": "array", "items": { "type": "object" } } } }),
        );
    } else {
        op.insert("summary".into(), json!("One stored instance by its id"));
        op.insert("parameters".into(), json!([uuid_param("id", "the instance id")]));
        responses["200"] = json_ok(
            "the instance",
            json!({ "type": "object", "properties": {
            "Id": { "type": "string", "format": "uuid" }, "Name": { "type": "string" },
            "Status": { "type": "string" }, "Waiting": { "type": "integer" } } }),
        );
    }
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    let mut add = |method: &str, path: String| {
        let entry = paths.entry(path.clone()).or_insert_with(|| json!({}));
        entry[method] = operation(method, &path);
    };
    for prefix in PREFIXES {
        for (m, p) in CREATIO_ROUTES {
            add(m, format!("{prefix}{p}"));
        }
    }
    for (m, p) in API_ROUTES {
        add(m, p.to_string());
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "procdsl", "version": env!("CARGO_PKG_VERSION"),
            "description": "Runs business processes written as .proc files; Creatio-compatible ProcessEngineService routes. See docs/SERVICE.md." },
        "paths": paths,
        "security": [ { "session": [], "csrf": [] }, { "bearer": [] } ],
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": ".ASPXAUTH" },
                "csrf": { "type": "apiKey", "in": "header", "name": "BPMCSRF" },
                "bearer": { "type": "http", "scheme": "bearer" },
            },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": {
                    "message": { "type": "string" }, "code": { "type": "string", "nullable": true },
                    "help": { "type": "string", "nullable": true }, "element": { "type": "string", "nullable": true },
                    "file": { "type": "string", "nullable": true }, "line": { "type": "integer", "nullable": true },
                    "column": { "type": "integer", "nullable": true } } } } },
                "ErrorInfo": { "type": "object", "nullable": true, "properties": {
                    "message": { "type": "string" }, "element": { "type": "string", "nullable": true },
                    "file": { "type": "string", "nullable": true }, "line": { "type": "integer", "nullable": true },
                    "column": { "type": "integer", "nullable": true } } },
                "Descriptor": { "type": "object", "properties": {
                    "processId": { "type": "string", "format": "uuid" },
                    "processName": { "type": "string" },
                    "processSchemaUId": { "type": "string", "format": "uuid" },
                    "status": { "type": "string", "enum": ["Running", "Waiting", "Completed", "Failed", "Cancelled"] },
                    "resultParameterValues": { "type": "object" },
                    "waiting": { "type": "array", "items": { "type": "object", "properties": {
                        "uid": { "type": "string", "format": "uuid" }, "element": { "type": "string" },
                        "elementUId": { "type": "string", "format": "uuid" },
                        "kind": { "type": "string" }, "caption": { "type": "string", "nullable": true },
                        "fields": { "type": "object" }, "process": { "type": "string" },
                        "due": { "type": "string" }, "signal": { "type": "string" },
                        "to": { "type": "array", "items": { "type": "string" } },
                        "deadline": { "type": "string", "format": "date-time" },
                        "item": { "type": "integer", "minimum": 0 },
                        "itemValue": {} } } },
                    "error": { "$ref": "#/components/schemas/ErrorInfo" },
                    "log": { "type": "array", "items": { "type": "string" } },
                    "startedBy": { "type": "string" },
                    "history": { "type": "array", "items": { "type": "object", "properties": {
                        "at": { "type": "string", "format": "date-time" }, "who": { "type": "string" },
                        "action": { "type": "string", "enum": ["start", "exec", "cancel", "signal"] },
                        "element": { "type": "string" }, "signal": { "type": "string" } } } } } },
                "Process": { "type": "object", "properties": {
                    "code": { "type": "string" }, "uid": { "type": "string", "format": "uuid" }, "caption": { "type": "string", "nullable": true },
                    "parameters": { "type": "array", "items": { "type": "object", "properties": {
                        "code": { "type": "string" }, "direction": { "type": "string" }, "type": { "type": "string" }, "default": {} } } },
                    "elements": { "type": "array", "items": { "type": "object" } } } },
            },
        },
    })
}
