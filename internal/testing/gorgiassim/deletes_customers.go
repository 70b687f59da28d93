package gorgiassim

import "time"

// Event types of the customer removals (Config.Deletes).
const (
	evCustomerDeleted = "customer-deleted"
	evCustomerMerged  = "customer-merged"
	evTicketUpdated   = "ticket-updated"
)

func (d *removals) customers() *table { return d.s.table(Customers) }

// planCustomers: delete about 0.1% of Customers (only customers without
// tickets) and merge about 0.1%, each at least one when possible.
func (d *removals) planCustomers(b *batch) {
	n := d.s.cfg.Customers
	d.schedule(b, atLeastOne(0.001, n), d.deleteCustomer)
	d.schedule(b, atLeastOne(0.001, n), d.mergeCustomer)
}

// pickCustomer draws and claims a free customer that ok accepts.
func (d *removals) pickCustomer(ok func(*customer) bool) (*customer, bool) {
	return claimOne(d, d.customers(), objectsOf[*customer](d.customers()), ok)
}

// ticketsByCustomer are the stored tickets of each customer (trashed ones
// included).
func (d *removals) ticketsByCustomer() map[int64][]*ticket {
	out := map[int64][]*ticket{}
	for _, tk := range objectsOf[*ticket](d.tickets()) {
		out[tk.Customer.ID] = append(out[tk.Customer.ID], tk)
	}
	return out
}

// deleteCustomer deletes a customer who has no ticket: customer-deleted,
// then the customer is gone. Nothing happens when every customer has one.
func (d *removals) deleteCustomer(at time.Time) {
	owners := d.ticketsByCustomer()
	c, ok := d.pickCustomer(func(c *customer) bool { return len(owners[c.ID]) == 0 })
	if !ok {
		return
	}
	d.drop(d.customers(), c.ID, 0, d.audit(at, d.customers(), evCustomerDeleted, c.ID, nil))
}

// mergeCustomer merges a customer into another: customer-merged about the
// survivor with source_customer_id, the source is gone, each of its
// tickets gets the survivor as customer (updated_datetime moves; event
// ticket-updated with data {"customer_id": survivor}), then the
// survivor's updated_datetime moves.
func (d *removals) mergeCustomer(at time.Time) {
	src, ok := d.pickCustomer(func(*customer) bool { return true })
	if !ok {
		return
	}
	dst, ok := d.pickCustomer(func(*customer) bool { return true })
	if !ok {
		return
	}
	t := d.customers()
	d.drop(t, src.ID, dst.ID, d.audit(at, t, evCustomerMerged, dst.ID, map[string]any{"source_customer_id": src.ID}))
	for _, tk := range d.ticketsByCustomer()[src.ID] {
		d.reassign(tk, dst, at)
	}
	d.quietly(func() {
		dst.UpdatedDatetime = d.s.stampAt(at, dst.form)
		t.changed(dst)
	})
}

// reassign makes c the customer of tk at time at.
func (d *removals) reassign(tk *ticket, c *customer, at time.Time) {
	tk.Customer = customerRef(c, newExtras(d.s.cfg.ExtraFields))
	tk.UpdatedDatetime = d.s.stampAt(at, tk.form)
	d.s.changedAs(d.tickets(), tk, &auditNote{typ: evTicketUpdated, data: map[string]any{"customer_id": c.ID}})
}
