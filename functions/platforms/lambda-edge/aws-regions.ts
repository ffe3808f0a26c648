// Which Region a Lambda@Edge replica reads a replicated secret from.
//
// Lambda sets AWS_REGION to "the AWS Region where the Lambda function is executed" (Lambda Developer Guide,
// "Defined runtime environment variables": https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
// a Lambda@Edge replica runs, and logs, in the Region serving the viewer (CloudFront Developer Guide, "Edge function
// logs"). Secrets Manager keeps a replica under the same name in each Region it is replicated to, so the function
// reads the Region nearest to where it runs that holds the secret:
//   1. the Region it runs in, when that holds the secret;
//   2. else the Region `nearest` names for it: the build works it out per stack from the table of nearby Regions
//      (components/edgeport/spec/aws_regions.py, NEAREST and nearest_holders) and puts it in the secret's config
//      (awsNearest), so the bundle carries a few answers instead of the whole table (2.1 KB minified);
//   3. else (a Region the table does not know, or Regions chosen by hand) the first Region holding it with the same
//      "<area>-<direction>-" prefix (ap-southeast-*), then with the same area prefix (ap-*), in configured order;
//   4. else us-east-1, the primary, which always holds it.

export const PRIMARY = "us-east-1";

/** The first Region of `holding` whose name starts with `prefix`. */
function samePrefix(holding: string[], prefix: string): string | undefined {
  return holding.find((r) => r.startsWith(prefix));
}

/**
 * The Region to read a secret from, running in `running` (AWS_REGION; undefined locally), the secret held in
 * `holding`, with `nearest` the build's answers for step 2 (Region it runs in -> nearest Region holding it).
 */
export function nearestRegion(running: string | undefined, holding: string[], nearest: Record<string, string> = {}): string {
  if (!running) return PRIMARY;
  if (holding.includes(running)) return running;
  const listed = Object.hasOwn(nearest, running) ? nearest[running] : undefined;
  if (listed !== undefined && holding.includes(listed)) return listed;
  const [area, direction] = running.split("-");
  return samePrefix(holding, `${area}-${direction}-`) ?? samePrefix(holding, `${area}-`) ?? PRIMARY;
}
