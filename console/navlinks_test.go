package console

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Without a payment provider configured, the top-up and payment pages are
// not mounted: no one's navigation links to them, and every link it shows
// answers.
func TestNavigationLinksOnlyToMountedPages(t *testing.T) {
	e := newEnv(t, true)
	e.openAccount("acct_nav", "導覽測試有限公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_nav", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	nav := regexp.MustCompile(`(?s)<nav[^>]*>.*?</nav>`)
	href := regexp.MustCompile(`href="(/console/[^"]*)"`)
	for who, secret := range map[string]string{"finance": e.finance, "auditor": e.auditor, "admin": e.admin, "customer": mgmt} {
		b := e.browser()
		b.signIn(secret)
		_, page := b.get("/console/dashboard")
		if who == "customer" {
			_, page = b.get("/console/accounts/acct_nav")
		}
		links := href.FindAllStringSubmatch(nav.FindString(page), -1)
		if len(links) == 0 {
			t.Fatalf("%s: no console links in the navigation:\n%s", who, page)
		}
		for _, l := range links {
			if resp, _ := b.get(l[1]); resp.StatusCode == http.StatusNotFound {
				t.Errorf("%s: the navigation links to %s, a 404", who, l[1])
			}
		}
	}
}
