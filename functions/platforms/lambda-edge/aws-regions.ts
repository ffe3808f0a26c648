// Which Region a Lambda@Edge replica reads a replicated secret from.
//
// Lambda sets AWS_REGION to "the AWS Region where the Lambda function is executed" (Lambda Developer Guide,
// "Defined runtime environment variables": https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
// a Lambda@Edge replica runs, and logs, in the Region serving the viewer (CloudFront Developer Guide, "Edge function
// logs"). Secrets Manager keeps a replica under the same name in each Region it is replicated to, so the function
// reads the Region nearest to where it runs that holds the secret:
//   1. the Region it runs in, when that holds the secret;
//   2. else the first Region of NEAREST[its Region] that holds it;
//   3. else (a Region the table does not know, or Regions chosen by hand) the first Region holding it with the same
//      "<area>-<direction>-" prefix (ap-southeast-*), then with the same area prefix (ap-*), in configured order;
//   4. else us-east-1, the primary, which always holds it.

export const PRIMARY = "us-east-1";

/**
 * For each commercial Region, nearby Regions, nearest first: the same area first (Americas, Europe with Israel,
 * the Middle East and Africa, Asia-Pacific), ordered by the rough distance between the Regions' cities, and reaching
 * at least one Region of CloudFront's regional edge caches (edgeport's default secretRegions,
 * components/edgeport/spec/aws_regions.py). Distance, not measured latency: a best-effort order that only has to be
 * much better than crossing an ocean to us-east-1.
 */
export const NEAREST: Record<string, string[]> = {
  "us-east-1": ["us-east-2", "ca-central-1"],
  "us-east-2": ["us-east-1", "ca-central-1"],
  "us-west-1": ["us-west-2", "ca-west-1", "us-east-2"],
  "us-west-2": ["us-west-1", "ca-west-1"],
  "ca-central-1": ["us-east-1", "us-east-2"],
  "ca-west-1": ["us-west-2", "us-west-1", "us-east-2"],
  "mx-central-1": ["us-east-2", "us-east-1", "us-west-1", "us-west-2"],
  "sa-east-1": ["us-east-1"],
  "eu-west-1": ["eu-west-2", "eu-west-3", "eu-central-1"],
  "eu-west-2": ["eu-west-3", "eu-west-1", "eu-central-1"],
  "eu-west-3": ["eu-west-2", "eu-central-1", "eu-central-2", "eu-west-1"],
  "eu-central-1": ["eu-central-2", "eu-west-3", "eu-west-2", "eu-west-1"],
  "eu-central-2": ["eu-central-1", "eu-south-1", "eu-west-3"],
  "eu-north-1": ["eu-central-1", "eu-west-2", "eu-west-1"],
  "eu-south-1": ["eu-central-2", "eu-central-1", "eu-west-3"],
  "eu-south-2": ["eu-west-3", "eu-south-1", "eu-west-2", "eu-central-1"],
  "il-central-1": ["eu-south-1", "eu-central-1", "eu-central-2", "eu-west-3"],
  "me-south-1": ["me-central-1", "ap-south-1", "eu-central-1"],
  "me-central-1": ["me-south-1", "ap-south-1", "eu-central-1"],
  "af-south-1": ["eu-west-2", "eu-west-1", "eu-central-1", "ap-south-1"],
  "ap-south-1": ["ap-south-2", "me-central-1", "ap-southeast-1"],
  "ap-south-2": ["ap-south-1", "ap-southeast-1"],
  "ap-east-1": ["ap-east-2", "ap-southeast-1", "ap-northeast-2", "ap-northeast-1"],
  "ap-east-2": ["ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1"],
  "ap-northeast-1": ["ap-northeast-3", "ap-northeast-2"],
  "ap-northeast-2": ["ap-northeast-3", "ap-northeast-1"],
  "ap-northeast-3": ["ap-northeast-1", "ap-northeast-2"],
  "ap-southeast-1": ["ap-southeast-5", "ap-southeast-3", "ap-southeast-7"],
  "ap-southeast-2": ["ap-southeast-4"],
  "ap-southeast-3": ["ap-southeast-1", "ap-southeast-5"],
  "ap-southeast-4": ["ap-southeast-2"],
  "ap-southeast-5": ["ap-southeast-1", "ap-southeast-7"],
  "ap-southeast-7": ["ap-southeast-1", "ap-southeast-5"],
};

/** The first Region of `holding` whose name starts with `prefix`. */
function samePrefix(holding: string[], prefix: string): string | undefined {
  return holding.find((r) => r.startsWith(prefix));
}

/** The Region to read a secret from, running in `running` (AWS_REGION; undefined locally), the secret held in `holding`. */
export function nearestRegion(running: string | undefined, holding: string[]): string {
  if (!running) return PRIMARY;
  if (holding.includes(running)) return running;
  const listed = (NEAREST[running] ?? []).find((r) => holding.includes(r));
  if (listed) return listed;
  const [area, direction] = running.split("-");
  return samePrefix(holding, `${area}-${direction}-`) ?? samePrefix(holding, `${area}-`) ?? PRIMARY;
}
