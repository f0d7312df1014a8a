package cfnfake

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

const ms = time.Millisecond

// run schedules the execution of a change set: resources are created or updated as soon as
// the resources they depend on are done, each taking its delay; a resource set to fail fails
// at the end of its delay, the resources still in progress are cancelled and the stack rolls
// back as CloudFormation does.
func (f *Fake) run(s *stack, cs *changeSet, token string, t0 time.Time) {
	create := cs.typ == "CREATE"
	e := cs.env
	verb := "UPDATE"
	if create {
		verb = "CREATE"
	} else {
		s.updated = t0
	}
	f.schedule(s, f.stackEvent(s, t0, verb+"_IN_PROGRESS", "User Initiated", token))

	work := map[string]change{}
	for _, c := range cs.changes {
		if c.action != "Remove" {
			work[c.logicalID] = c
		}
	}
	start, finish := map[string]time.Time{}, map[string]time.Time{}
	var timeOf func(id string) time.Time
	timeOf = func(id string) time.Time {
		if _, ok := start[id]; ok {
			return finish[id]
		}
		st := t0.Add(ms)
		start[id] = st
		for _, d := range e.dependencies(id) {
			if _, ok := work[d]; ok {
				if ft := timeOf(d); ft.After(st) {
					st = ft
				}
			}
		}
		start[id], finish[id] = st, st.Add(f.delayOf(id, work[id].typ))
		return finish[id]
	}
	failing := map[string]string{}
	var tf time.Time
	for _, id := range awsquery.SortedKeys(work) {
		timeOf(id)
		if reason, ok := f.failures[id]; ok {
			delete(f.failures, id)
			failing[id] = reason
			if tf.IsZero() || finish[id].Before(tf) {
				tf = finish[id]
			}
		}
	}
	failed := !tf.IsZero()

	ids := awsquery.SortedKeys(work)
	sortByTime(ids, start)
	var started, failedIDs []string
	failedVerb := "update"
	tEnd := t0
	for _, id := range ids {
		c, st, fin := work[id], start[id], finish[id]
		if failed && !st.Before(tf) {
			continue
		}
		started = append(started, id)
		status, phys, reason := "UPDATE", c.physicalID, ""
		if c.action == "Add" {
			status, phys = "CREATE", e.physicalID(id)
		} else if c.replacement == "True" {
			phys, reason = e.physicalID(id), "Requested update requires the creation of a new physical resource; hence creating one."
		}
		f.schedule(s, f.resStep(s, st, id, phys, c.typ, status+"_IN_PROGRESS", reason, token, nil))
		if c.action == "Add" && fin.After(st.Add(ms)) {
			f.schedule(s, f.resStep(s, st.Add(ms), id, phys, c.typ, status+"_IN_PROGRESS", "Resource creation Initiated", token, nil))
		}
		cancelled := map[string]string{"CREATE": "Resource creation cancelled", "UPDATE": "Resource update cancelled"}[status]
		switch reason, bad := failing[id]; {
		case failed && fin.After(tf):
			f.schedule(s, f.resStep(s, tf, id, phys, c.typ, status+"_FAILED", cancelled, token, nil))
		case bad:
			failedIDs = append(failedIDs, id)
			if c.action == "Add" {
				failedVerb = "create"
			}
			f.schedule(s, f.resStep(s, fin, id, phys, c.typ, status+"_FAILED", reason, token, nil))
		default:
			newPhys := phys
			f.schedule(s, f.resStep(s, fin, id, phys, c.typ, status+"_COMPLETE", "", token, func() {
				s.resources[id].physical = newPhys
			}))
		}
		if fin.After(tEnd) {
			tEnd = fin
		}
	}

	commit := func() {
		s.body, s.tmpl, s.env, s.params, s.tags, s.caps, s.roleARN = cs.body, cs.tmpl, cs.env, cs.params, cs.tags, cs.caps, cs.roleARN
		s.outputs = outputs(e)
		for id, res := range s.resources {
			res.typ = cs.tmpl.Resources[id].Type
			res.props = jsonOf(e.resolve(cs.tmpl.Resources[id].Properties))
		}
		cs.execution = "EXECUTE_COMPLETE"
		s.changeSets = nil // executing a change set removes the stack's change sets
	}
	if !failed {
		t := tEnd.Add(ms)
		if create {
			end := f.stackEvent(s, t, "CREATE_COMPLETE", "", token)
			end.apply = commit
			f.schedule(s, end)
			return
		}
		f.schedule(s, f.stackEvent(s, t, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "", token))
		var old []victim // what the update leaves behind
		for _, c := range cs.changes {
			if c.action == "Remove" || c.replacement == "True" {
				old = append(old, victim{c.logicalID, c.physicalID, c.typ})
			}
		}
		t = f.deleteAll(s, t.Add(ms), old, token)
		end := f.stackEvent(s, t.Add(ms), "UPDATE_COMPLETE", "", token)
		end.apply = commit
		f.schedule(s, end)
		return
	}

	list := strings.Join(failedIDs, ", ")
	t := tf.Add(ms)
	if create {
		f.schedule(s, f.stackEvent(s, t, "ROLLBACK_IN_PROGRESS",
			fmt.Sprintf("The following resource(s) failed to create: [%s]. Rollback requested by user.", list), token))
		var made []victim
		for _, id := range slices.Backward(started) {
			made = append(made, victim{id, e.physicalID(id), work[id].typ})
		}
		t = f.deleteAll(s, t.Add(ms), made, token)
		end := f.stackEvent(s, t.Add(ms), "ROLLBACK_COMPLETE", "", token)
		end.apply = func() {
			s.body, s.tmpl, s.env, s.params, s.tags, s.caps = cs.body, cs.tmpl, cs.env, cs.params, cs.tags, cs.caps
			s.outputs = nil
			s.changeSets = nil
		}
		f.schedule(s, end)
		return
	}
	f.schedule(s, f.stackEvent(s, t, "UPDATE_ROLLBACK_IN_PROGRESS",
		fmt.Sprintf("The following resource(s) failed to %s: [%s]. ", failedVerb, list), token))
	t = t.Add(ms)
	tBack := t
	var made []victim
	for _, id := range slices.Backward(started) {
		c := work[id]
		if c.action == "Add" || c.replacement == "True" {
			made = append(made, victim{id, e.physicalID(id), c.typ})
		}
		if c.action == "Add" {
			continue
		}
		fin := t.Add(f.delayOf(id, c.typ) / 2)
		oldPhys := c.physicalID
		f.schedule(s,
			f.resStep(s, t, id, oldPhys, c.typ, "UPDATE_IN_PROGRESS", "", token, nil),
			f.resStep(s, fin, id, oldPhys, c.typ, "UPDATE_COMPLETE", "", token, func() { s.resources[id].physical = oldPhys }))
		if fin.After(tBack) {
			tBack = fin
		}
	}
	t = tBack.Add(ms)
	f.schedule(s, f.stackEvent(s, t, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "", token))
	t = f.deleteAll(s, t.Add(ms), made, token)
	end := f.stackEvent(s, t.Add(ms), "UPDATE_ROLLBACK_COMPLETE", "", token)
	end.apply = func() { s.changeSets = nil }
	f.schedule(s, end)
}

// victim is a physical resource to delete.
type victim struct{ logicalID, physicalID, typ string }

// deleteAll schedules the deletion of the given physical resources one after the other from
// t and returns when the last is gone.
func (f *Fake) deleteAll(s *stack, t time.Time, list []victim, token string) time.Time {
	for _, v := range list {
		d := f.delayOf(v.logicalID, v.typ) / 2
		f.schedule(s,
			f.resStep(s, t, v.logicalID, v.physicalID, v.typ, "DELETE_IN_PROGRESS", "", token, nil),
			f.resStep(s, t.Add(d), v.logicalID, v.physicalID, v.typ, "DELETE_COMPLETE", "", token, nil))
		t = t.Add(d + ms)
	}
	return t
}

func outputs(e *env) []output {
	var out []output
	for _, k := range awsquery.SortedKeys(e.t.Outputs) {
		o := e.t.Outputs[k]
		if !e.condition(o.Condition) {
			continue
		}
		v := e.resolve(o.Value)
		if list, ok := v.([]any); ok {
			parts := make([]string, len(list))
			for i, p := range list {
				parts[i] = fmt.Sprint(p)
			}
			v = strings.Join(parts, ",")
		}
		out = append(out, output{Key: k, Value: fmt.Sprint(v), Description: o.Description})
	}
	return out
}
