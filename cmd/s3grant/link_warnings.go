package main

import "github.com/isahit/s3grant/launch"

// linkWarning is one thing a link works without but should not, named by its flag.
type linkWarning struct {
	Flag    string `json:"flag"`
	Message string `json:"message"`
}

// linkWarnings returns what is missing from, or risky in, a link that passed the checks. They
// are warnings, not bad input: the link works (exit 0), but the customer has more to do or may
// get another template than the one they were told about.
func linkWarnings(l launch.Link) []linkWarning {
	var ws []linkWarning
	if l.Parameters["ExternalId"] == "" {
		ws = append(ws, linkWarning{Flag: flagFor("ExternalId"), Message: "not given: the link does not prefill " +
			launch.ParamPrefix + "ExternalId, so the customer must type the external ID in the console; give " +
			flagFor("ExternalId") + " or --new-external-id (the link is printed all the same, exit 0)"})
	}
	if loc, err := launch.ParseTemplateURL(launch.FieldTemplateURL, l.TemplateURL); err == nil && launch.Moving(loc.Key) {
		ws = append(ws, linkWarning{Flag: flagFor(launch.FieldTemplateURL), Message: launch.MovingWarning(loc.Key, "")})
	}
	return ws
}
