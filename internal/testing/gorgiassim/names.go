package gorgiassim

import (
	"strings"
	"sync"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Account is the resource of the account, the single object at
// /api/account (for Objects, IDs, Deny and Allow).
const Account = "account"

// resolve maps a resource name or alias to the catalog Resource it names
// ("account" to itself), or "". Accepted for every catalog entity: its
// Resource and Name, each with '-' or '_' and singular, plus the aliases
// of its generator, in any case, with or without a leading "api/".
func resolve(name string) string {
	n := strings.ToLower(strings.Trim(name, "/ "))
	n = strings.TrimPrefix(n, "api/")
	if n == Account {
		return Account
	}
	return aliases()[n]
}

// aliases indexes every accepted name; exact Resources and Names win over
// derived variants, and the first entity in catalog order wins a tie.
var aliases = sync.OnceValue(func() map[string]string {
	idx := map[string]string{}
	ents := catalog.All()
	for _, e := range ents {
		idx[e.Resource], idx[e.Name] = e.Resource, e.Resource
	}
	for _, e := range ents {
		names := append([]string{e.Resource, e.Name}, specs[e.Name].aliases...)
		for _, n := range names {
			for _, v := range variants(n) {
				if _, taken := idx[v]; !taken {
					idx[v] = e.Resource
				}
			}
		}
	}
	return idx
})

// variants are the spellings accepted for a name: as is, with '-' or '_',
// and each of those without a trailing "s".
func variants(n string) []string {
	forms := []string{n, strings.ReplaceAll(n, "_", "-"), strings.ReplaceAll(n, "-", "_")}
	for _, f := range forms[:3] {
		forms = append(forms, strings.TrimSuffix(f, "s"))
	}
	return forms
}
