"""The GraphQL documents intake sends to Linear; a test validates each against Linear's schema."""

ISSUE_FIELDS = """
    id identifier title description priority url updatedAt
    state { id name type }
    team { id key }
    project { id name }
    assignee { id name displayName email }
    labels { nodes { id name } }
"""

POLL_ISSUES = (
    """
query SparksPollIssues($filter: IssueFilter, $first: Int, $after: String) {
  issues(filter: $filter, first: $first, after: $after, orderBy: updatedAt) {
    nodes {"""
    + ISSUE_FIELDS
    + """    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
)
