//! The OpenAPI 3 document of the service (`GET /api/openapi.json`),
//! written to match what the routes accept and return. A test checks that
//! every route of the router is in it.

use super::{API_ROUTES, CREATIO_ROUTES, PREFIXES};
use serde_json::{json, Map, Value};

fn error_responses() -> Value {
    let err = json!({ "description": "a JSON error", "content": { "application/json": {
        "schema": { "$ref": "#/components/schemas/Error" } } } });
    json!({
        "400": err, "401": err, "403": err, "404": err, "409": err, "413": err,
        "422": err, "431": err, "503": err,
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
        responses["200"] = json!({ "description": "Code 0: signed in (with cookies); Code 1: wrong credentials (no session)",
            "content": { "application/json": { "schema": { "type": "object",
                "properties": { "Code": { "type": "integer", "enum": [0, 1] }, "Message": { "type": "string" } } } } } });
    } else if p.ends_with("/Execute") {
        op.insert("summary".into(), json!("Runs a process by Code. With ResultParameterName: waits and returns that value (null when the process has no such parameter). Without: starts it in the background and returns the instance id; refused (400) for a process with output parameters"));
        op.insert(
            "parameters".into(),
            json!([
                path_param("code", "the process Code"),
                { "name": "ResultParameterName", "in": "query", "required": false, "schema": { "type": "string" } },
                { "name": "inputs", "in": "query", "required": false, "style": "form", "explode": true,
                  "schema": { "type": "object", "additionalProperties": { "type": "string" } },
                  "description": "any other query parameter is an input, converted like `-p`" },
            ]),
        );
        if method == "post" {
            op.insert(
                "requestBody".into(),
                json!({ "required": false, "content": { "application/json": { "schema": {
                "type": "object", "description": "more inputs: Code → value" } } } }),
            );
        }
        responses["200"] = creatio_ok("the result value, or the background instance's id", json!({}));
    } else if p.contains("/ExecProcElByUId/") {
        op.insert(
            "summary".into(),
            json!("Executes a waiting element-instance by its UId and runs on; 409 when it was already executed"),
        );
        op.insert(
            "parameters".into(),
            json!([
                path_param("uid", "the element-instance UId"),
                { "name": "fields", "in": "query", "required": false, "style": "form", "explode": true,
                  "schema": { "type": "object", "additionalProperties": { "type": "string" } },
                  "description": "field values of a user task" },
            ]),
        );
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
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": {
            "type": "object",
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
    } else if p.ends_with("/CancelExecution") {
        op.insert("summary".into(), json!("Cancels instances"));
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": {
            "type": "array", "items": { "type": "string", "format": "uuid" } } } } }),
        );
        responses["200"] = creatio_ok(
            "one entry per id: its status, or its error",
            json!({ "type": "array", "items": {
            "type": "object", "properties": { "processId": { "type": "string" }, "status": { "type": "string" },
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
        op.insert("parameters".into(), json!([
            { "name": "status", "in": "query", "required": false, "schema": { "type": "string",
                "enum": ["Running", "Waiting", "Completed", "Failed", "Cancelled"] } },
            { "name": "process", "in": "query", "required": false, "schema": { "type": "string" } },
            { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "maximum": 10000 } },
        ]));
        responses["200"] = json_ok(
            "instances",
            json!({ "type": "array", "items": { "type": "object", "properties": {
            "id": { "type": "string" }, "process": { "type": "string" }, "status": { "type": "string" },
            "waiting": { "type": "integer" }, "version": { "type": "integer" },
            "created": { "type": "string" }, "updated": { "type": "string" } } } }),
        );
    } else if p == "/api/instances/{id}" {
        op.insert("summary".into(), json!("One instance's descriptor, with its log"));
        op.insert("parameters".into(), json!([path_param("id", "the instance id")]));
        responses["200"] = json_ok("the descriptor", json!({ "$ref": "#/components/schemas/Descriptor" }));
    } else if p == "/api/signals/{name}" {
        op.insert("summary".into(), json!("Throws a signal to every stored instance waiting for it"));
        op.insert("parameters".into(), json!([path_param("name", "the signal")]));
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
    } else if p == "/metrics" {
        op.insert("summary".into(), json!("Prometheus metrics"));
        responses["200"] = json!({ "description": "Prometheus text format",
            "content": { "text/plain": { "schema": { "type": "string" } } } });
    }
    op.insert("responses".into(), responses);
    Value::Object(op)
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
                        "uid": { "type": "string" }, "element": { "type": "string" }, "elementUId": { "type": "string" },
                        "kind": { "type": "string" }, "caption": { "type": "string", "nullable": true },
                        "fields": { "type": "object" }, "process": { "type": "string" },
                        "due": { "type": "string" }, "signal": { "type": "string" } } } },
                    "error": { "$ref": "#/components/schemas/ErrorInfo" },
                    "log": { "type": "array", "items": { "type": "string" } } } },
                "Process": { "type": "object", "properties": {
                    "code": { "type": "string" }, "uid": { "type": "string" }, "caption": { "type": "string", "nullable": true },
                    "parameters": { "type": "array", "items": { "type": "object", "properties": {
                        "code": { "type": "string" }, "direction": { "type": "string" }, "type": { "type": "string" }, "default": {} } } },
                    "elements": { "type": "array", "items": { "type": "object" } } } },
            },
        },
    })
}
