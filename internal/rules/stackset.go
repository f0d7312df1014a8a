package rules

// StackSetName follows CloudFormation's stack set name rules.
var StackSetName = newRule(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`,
	"a stack set name is 1-128 letters, digits and hyphens, starting with a letter", false, nil)

// OrgUnitID is an AWS Organizations organizational unit ID (ou-xxxx-yyyyyyyy) or root ID
// (r-xxxx), the targets of a service-managed stack set.
var OrgUnitID = newRule(`^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`,
	"an organizational unit ID looks like ou-ab12-cd34ef56 (ou-, 4-32 lowercase letters or digits, -, 8-32 more) and a root ID like r-ab12", false, nil)

// OperationID is a stack set operation ID (CloudFormation API reference: 1-128 characters of
// letters, digits and hyphens, starting with a letter or digit).
var OperationID = newRule(`^[a-zA-Z0-9][-a-zA-Z0-9]{0,127}$`,
	"an operation ID is 1-128 letters, digits and hyphens, as deploy prints it", false, nil)
