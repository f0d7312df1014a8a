package launch

// ConsoleDomain is the AWS console's domain for a region's partition (console.aws.amazon.com,
// console.amazonaws.cn); ok is false where s3grant knows no console (GovCloud, ISO, unknown).
func ConsoleDomain(region string) (domain string, ok bool) { return consoleDomain(region) }
