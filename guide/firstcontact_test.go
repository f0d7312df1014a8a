package guide_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/guide"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/site/sitetest"
	"github.com/isahit/s3grant/stacks"
)

// The overview's resource table has one row per resource of the template, read here from the
// template's JSON, so a resource added to the template cannot be missing from the overview.
func TestOverview_ListsEveryResourceOfTheTemplate(t *testing.T) {
	noCORS := personal("images/", "")
	noCORS.Integration.ManageCORS = false
	for name, cfg := range map[string]guide.Config{"generic": generic(), "without CORS": noCORS} {
		t.Run(name, func(t *testing.T) {
			body, err := stacks.JSON(cfg.Integration)
			if err != nil {
				t.Fatal(err)
			}
			var tmpl struct {
				Resources map[string]struct{ Type string }
			}
			if err := json.Unmarshal(body, &tmpl); err != nil {
				t.Fatal(err)
			}
			doc := page(t, build(t, cfg), "index.html")
			listed := map[string]string{} // logical ID -> type, from the table's rows
			for _, row := range doc.All(func(n *sitetest.Node) bool { return n.Tag == "tr" }) {
				cells := row.All(func(n *sitetest.Node) bool { return n.Tag == "td" })
				if len(cells) == 3 && strings.HasPrefix(strings.TrimSpace(cells[1].TextContent()), "AWS::") ||
					len(cells) == 3 && strings.HasPrefix(strings.TrimSpace(cells[1].TextContent()), "Custom::") {
					listed[strings.TrimSpace(cells[0].TextContent())] = strings.TrimSpace(cells[1].TextContent())
					if why := strings.TrimSpace(cells[2].TextContent()); len(why) < 20 {
						t.Errorf("resource %s: why %q", cells[0].TextContent(), why)
					}
				}
			}
			if len(tmpl.Resources) != 9 {
				t.Errorf("the template has %d resources; the overview's expectations were written for 9", len(tmpl.Resources))
			}
			for id, r := range tmpl.Resources {
				if listed[id] != r.Type {
					t.Errorf("overview lists %s as %q, the template has it as %q", id, listed[id], r.Type)
				}
			}
			if len(listed) != len(tmpl.Resources) {
				t.Errorf("overview lists %v, the template has %v", slices.Sorted(maps.Keys(listed)), slices.Sorted(maps.Keys(tmpl.Resources)))
			}
		})
	}
}

// The guide names the template version it describes and the immutable key of the vendor's
// published template, computed here as publish's key is documented: VERSION/<16 hex of sha256>.json.
func TestGuide_NamesTheTemplateVersionAndKey(t *testing.T) {
	files := build(t, generic())
	published, err := stacks.JSON(stacks.New(profile.Default()))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(published)
	key := stacks.TemplateVersion + "/" + hex.EncodeToString(sum[:])[:16] + ".json"
	for _, name := range []string{"index.html", "reference.html", "one-click.html"} {
		text := page(t, files, name).TextContent()
		if !strings.Contains(text, "version "+stacks.TemplateVersion) && !strings.Contains(text, "template "+stacks.TemplateVersion) {
			t.Errorf("%s does not name template version %s", name, stacks.TemplateVersion)
		}
	}
	if text := page(t, files, "reference.html").TextContent(); !strings.Contains(text, key) || !strings.Contains(text, exampleTemplate) {
		t.Errorf("reference page does not name the published key %s and the template URL %s", key, exampleTemplate)
	}
}

// A personalised guide's Launch Stack link sets every value the guide was built with that the
// published template does not already default to, so the stack launched is the one described.
func TestOneClickPage_LaunchLinkCarriesTheBuildsValues(t *testing.T) {
	cfg := personal("images/", "")
	cfg.Integration.ManageCORS = false
	l := launchButton(t, page(t, build(t, cfg), "one-click.html"))
	want := map[string]string{"BucketName": exampleBucket, "ExternalId": exampleID, "ObjectPrefix": "images/", "ManageCors": "false"}
	if !maps.Equal(l.Parameters, want) {
		t.Errorf("launch link parameters %v, want %v", l.Parameters, want)
	}
}

// launchButton returns the link of the page's one Launch Stack button.
func launchButton(t *testing.T, doc *sitetest.Node) launch.Link {
	t.Helper()
	links := doc.All(func(n *sitetest.Node) bool { return n.Tag == "a" && n.HasClass("launch") })
	if len(links) != 1 {
		t.Fatalf("got %d launch buttons, want 1", len(links))
	}
	l, err := launch.Parse(links[0].Attr["href"])
	if err != nil {
		t.Fatal(err)
	}
	return l
}
