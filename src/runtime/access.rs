//! Who may execute a user task: the one decision that every front end
//! (the service, `exec --as`) asks, so that they cannot disagree.
//!
//! A task with `to` is assigned to the names its expression gave when the
//! task started; each name is a user or a role. A caller may execute it
//! when the caller is named, holds a named role, or holds [`ADMIN_ROLE`].
//! A task without `to` is anyone's who may execute tasks at all (that is
//! the front end's own rule, not this module's).

/// The role that may execute every task, whoever it is assigned to.
pub const ADMIN_ROLE: &str = "admin";

/// A caller who is not among a task's assignees.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("`{element}` is assigned to {}", assignees.join(", "))]
#[diagnostic(
    code(procdsl::exec::not_assigned),
    help("`{caller}` is not named and holds none of these roles; only they (or an `admin`) may execute it")
)]
pub struct NotAssigned {
    /// The user task's name.
    pub element: String,
    /// Who may: the task's evaluated `to`, in order.
    pub assignees: Vec<String>,
    /// Who asked.
    pub caller: String,
}

/// Decides whether `caller`, holding `roles`, may execute the user task
/// `element` assigned to `assignees` (empty: the task has no `to`).
/// Names and roles are compared exactly, case included.
pub fn may_execute(element: &str, assignees: &[String], caller: &str, roles: &[String]) -> Result<(), NotAssigned> {
    let allowed = assignees.is_empty()
        || roles.iter().any(|r| r == ADMIN_ROLE)
        || assignees.iter().any(|a| a == caller || roles.iter().any(|r| r == a));
    if allowed {
        Ok(())
    } else {
        Err(NotAssigned { element: element.to_string(), assignees: assignees.to_vec(), caller: caller.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_unassigned_task_is_anyones() {
        assert_eq!(may_execute("Approve", &[], "bob", &[]), Ok(()));
    }

    #[test]
    fn a_named_user_may() {
        assert_eq!(may_execute("Approve", &names(&["managers", "alice"]), "alice", &[]), Ok(()));
    }

    #[test]
    fn a_holder_of_a_named_role_may() {
        assert_eq!(may_execute("Approve", &names(&["managers"]), "carol", &names(&["user", "managers"])), Ok(()));
    }

    #[test]
    fn an_admin_may_execute_any_task() {
        assert_eq!(may_execute("Approve", &names(&["managers"]), "root", &names(&["admin"])), Ok(()));
    }

    #[test]
    fn anyone_else_is_told_who_may() {
        let err = may_execute("Approve", &names(&["managers", "alice"]), "bob", &names(&["user"])).unwrap_err();
        assert_eq!(err.to_string(), "`Approve` is assigned to managers, alice");
        assert_eq!(err.caller, "bob");
        assert_eq!(err.assignees, names(&["managers", "alice"]));
    }

    #[test]
    fn names_are_compared_exactly() {
        assert!(may_execute("Approve", &names(&["Alice"]), "alice", &[]).is_err());
        assert!(may_execute("Approve", &names(&["managers"]), "bob", &names(&["Managers"])).is_err());
        // A user named like a role is not given the role.
        assert!(may_execute("Approve", &names(&["managers"]), "admin", &[]).is_err());
    }
}
