package s3fake

import (
	"encoding/xml"
	"net/http"
	"strings"
)

// Control returns the S3 Control API handler (paths under /v20180820/), sharing the fake's
// access points. Only GetAccessPoint is modelled; other calls are recorded and refused.
func (f *Fake) Control() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, isAP := strings.CutPrefix(r.URL.Path, "/v20180820/accesspoint/")
		op := r.Method + " " + r.URL.Path
		if isAP && r.Method == http.MethodGet && !strings.Contains(name, "/") {
			op = "GetAccessPoint"
		}
		if n, ok := strings.CutSuffix(name, "/policy"); isAP && ok && r.Method == http.MethodGet && !strings.Contains(n, "/") {
			op, name = "GetAccessPointPolicy", n
		}
		if code := f.record("s3control", op, r.Method); code != "" {
			writeError(w, r, newError(code, "injected failure of %s", op), true)
			return
		}
		if op != "GetAccessPoint" && op != "GetAccessPointPolicy" {
			writeError(w, r, newError("NotImplemented", "the fake does not implement %s", op), true)
			return
		}
		f.mu.Lock()
		ap := f.accessPoint(r, r.Header.Get("x-amz-account-id"), name)
		f.mu.Unlock()
		if ap == nil {
			writeError(w, r, newError("NoSuchAccessPoint", "The specified accesspoint does not exist"), true)
			return
		}
		if op == "GetAccessPointPolicy" {
			if ap.Policy == "" {
				writeError(w, r, newError("NoSuchAccessPointPolicy", "The specified accesspoint policy does not exist"), true)
				return
			}
			writeXML(w, struct {
				XMLName xml.Name `xml:"http://awss3control.amazonaws.com/doc/2018-08-20/ GetAccessPointPolicyResult"`
				Policy  string
			}{Policy: ap.Policy})
			return
		}
		writeXML(w, getAccessPointResult(ap))
	})
}

type publicAccessBlock struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

type accessPointXML struct {
	XMLName                        xml.Name `xml:"http://awss3control.amazonaws.com/doc/2018-08-20/ GetAccessPointResult"`
	Name, Bucket, NetworkOrigin    string
	VpcConfiguration               *struct{ VpcId string }
	PublicAccessBlockConfiguration publicAccessBlock
	CreationDate                   string
	Alias, AccessPointArn          string
	BucketAccountId                string
}

func getAccessPointResult(ap *AccessPoint) accessPointXML {
	out := accessPointXML{Name: ap.Name, Bucket: ap.Bucket, NetworkOrigin: "Internet",
		PublicAccessBlockConfiguration: publicAccessBlock{ap.PublicAccessBlock[0], ap.PublicAccessBlock[1],
			ap.PublicAccessBlock[2], ap.PublicAccessBlock[3]},
		CreationDate: lastModified.Format("2006-01-02T15:04:05Z"), Alias: ap.Name + "-fakealias-s3alias",
		AccessPointArn: ap.ARN(), BucketAccountId: ap.Account}
	if ap.VPCID != "" {
		out.NetworkOrigin = "VPC"
		out.VpcConfiguration = &struct{ VpcId string }{ap.VPCID}
	}
	return out
}
