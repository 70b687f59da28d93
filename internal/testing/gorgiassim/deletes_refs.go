package gorgiassim

import "time"

// keepAtLeast is how many objects a reference entity keeps: removals stop
// there.
const keepAtLeast = 3

// Event type of a tag merge (Config.Deletes); deletions are
// <object type>-deleted.
const evTagMerged = "tag-merged"

// droppable are the reference entities of which, with probability 0.5
// each, an Advance deletes one object.
var droppable = []string{Macros, Teams, Views, Widgets, Rules}

// planReferences: delete one tag and merge one tag into another, and with
// probability 0.5 each delete one macro, team, view, widget and rule.
func (d *removals) planReferences(b *batch) {
	tags := d.s.table(Tags)
	d.schedule(b, 1, func(at time.Time) { d.deleteReference(tags, at) })
	d.schedule(b, 1, d.mergeTag)
	for _, res := range droppable {
		if d.r.Float64() < 0.5 {
			t := d.s.table(res)
			d.schedule(b, 1, func(at time.Time) { d.deleteReference(t, at) })
		}
	}
}

// pickReference draws and claims a free object of t that can be deleted,
// if t keeps more than keepAtLeast objects.
func (d *removals) pickReference(t *table) (int64, bool) {
	if t.len() <= keepAtLeast {
		return 0, false
	}
	return d.pickObject(t, deletable)
}

// pickObject draws and claims a free object of t that ok accepts; it
// returns its id.
func (d *removals) pickObject(t *table, ok func(any) bool) (int64, bool) {
	o, found := claimOne(d, t, objectsOf[any](t), ok)
	if !found {
		return 0, false
	}
	return t.layout.id(o), true
}

// deletable: every reference object but the system views (Inbox, Spam,
// Trash...), which Gorgias does not let anyone delete.
func deletable(obj any) bool {
	v, ok := obj.(*ticketView)
	return !ok || v.Category != "system"
}

// deleteReference deletes an object of the reference entity t:
// <object type>-deleted (tag-deleted, macro-deleted...), then it is gone.
func (d *removals) deleteReference(t *table, at time.Time) {
	id, ok := d.pickReference(t)
	if !ok {
		return
	}
	typ := kebab(auditedKinds[t.ent.Name]) + "-deleted"
	d.drop(t, id, 0, d.audit(at, t, typ, id, nil))
}

// mergeTag merges a tag into another: tag-merged about the survivor with
// source_tag_id, then the source is gone. Tickets and macros keep their
// embedded copy of the source tag, and the survivor does not change.
func (d *removals) mergeTag(at time.Time) {
	t := d.s.table(Tags)
	src, ok := d.pickReference(t)
	if !ok {
		return
	}
	dst, ok := d.pickObject(t, func(any) bool { return true })
	if !ok {
		return
	}
	d.drop(t, src, dst, d.audit(at, t, evTagMerged, dst, map[string]any{"source_tag_id": src}))
}
