"""The GraphQL documents writeback sends to Linear; a test validates each against Linear's schema."""

ISSUE_STATE = """
query SparksIssueState($id: String!) {
  issue(id: $id) {
    id identifier
    state { id name type }
    team { id states { nodes { id name type position } } }
  }
}
"""

MOVE_ISSUE = """
mutation SparksMoveIssue($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: { stateId: $stateId }) { success issue { id state { id name } } }
}
"""

CREATE_COMMENT = """
mutation SparksComment($id: String!, $issueId: String!, $body: String!) {
  commentCreate(input: { id: $id, issueId: $issueId, body: $body }) { success comment { id } }
}
"""

FIND_COMMENT = """
query SparksFindComment($id: String!) {
  comment(id: $id) { id }
}
"""
