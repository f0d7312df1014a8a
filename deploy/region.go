package deploy

import "fmt"

// RegionMismatchError is an explicit region that is not the bucket's: the access point, and
// so the stack, must live in its bucket's region.
type RegionMismatchError struct {
	Bucket, BucketRegion, Region string
}

func (e *RegionMismatchError) Error() string {
	return fmt.Sprintf("region %s was asked for but bucket %s is in %s: the stack must be created in the bucket's region",
		e.Region, e.Bucket, e.BucketRegion)
}

// CheckRegion returns the region to deploy in: the bucket's (see s3client.BucketRegion). An
// explicit region that disagrees is refused with a *RegionMismatchError.
func CheckRegion(bucket, bucketRegion, explicit string) (string, error) {
	if explicit != "" && explicit != bucketRegion {
		return "", &RegionMismatchError{Bucket: bucket, BucketRegion: bucketRegion, Region: explicit}
	}
	return bucketRegion, nil
}
