package site

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	e := newExpander([]Var{
		{Name: "Id", Label: "ID", Placeholder: "<ID>"},
		{Name: "Region", Value: "eu-west-3"},
	})
	const s, end = markStart, markEnd
	for _, tc := range []struct {
		name, in, want, wantErr string
	}{
		{name: "text", in: "<p>id " + s + "Id" + end + ".</p>",
			want: `<p>id <span class="v" data-var="Id">&lt;ID&gt;</span>.</p>`},
		{name: "baked value", in: "<p>" + s + "Region" + end + "</p>",
			want: `<p><span class="v" data-var="Region">eu-west-3</span></p>`},
		// A highlighter that splits the marker over two tokens: the span
		// holds the value, the tags that were inside follow it in order.
		{name: "split by tags", in: `<span class="a">` + s + `I</span><span class="b">d` + end + `"</span>`,
			want: `<span class="a"><span class="v" data-var="Id">&lt;ID&gt;</span></span><span class="b">"</span>`},
		{name: "encoded in href", in: `<a href="https://x/?id=%EE%80%80Id%EE%80%81&amp;r=%EE%80%80Region%EE%80%81">`,
			want: `<a href="https://x/?id=%3CID%3E&amp;r=eu-west-3" data-href="https://x/?id={Id}&amp;r=eu-west-3">`},
		{name: "raw in href", in: `<a class="b" href="https://` + s + `Region` + end + `.x/` + s + `Id` + end + `">`,
			want: `<a class="b" href="https://eu-west-3.x/%3CID%3E" data-href="https://eu-west-3.x/{Id}">`},
		{name: "baked only: no template", in: `<a href="https://%EE%80%80Region%EE%80%81.x/">`,
			want: `<a href="https://eu-west-3.x/">`},
		{name: "other attribute", in: `<img alt="` + s + `Id` + end + `">`, wantErr: "attribute other than href"},
		{name: "attribute before href", in: `<a title="%EE%80%80Id%EE%80%81" href="x">`, wantErr: "attribute other than href"},
		{name: "unknown", in: s + "Nope" + end, wantErr: `unknown var "Nope"`},
		{name: "unknown in link", in: `<a href="%EE%80%80Nope%EE%80%81">`, wantErr: `unknown var "Nope"`},
		{name: "not closed", in: s + "Id", wantErr: "not closed"},
		{name: "nested", in: s + "I" + s + "d" + end, wantErr: "nested"},
		{name: "stray end", in: "x" + end, wantErr: "stray"},
		{name: "encoded in text", in: "<code>https://x/?id=%EE%80%80Id%EE%80%81</code>", wantErr: "percent-encoded var marker in text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.expand(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("expand = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("expand =\n%s, %v\nwant\n%s", got, err, tc.want)
			}
		})
	}
}

func TestUnmark(t *testing.T) {
	e := newExpander([]Var{{Name: "Id", Label: "ID", Placeholder: "<ID>"}})
	if got, want := e.unmark("Role for "+markStart+"Id"+markEnd+"!"), "Role for <ID>!"; got != want {
		t.Errorf("unmark = %q, want %q", got, want)
	}
}
