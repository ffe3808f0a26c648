// The floor on Lambda@Edge: a handler that does no work - it returns the CloudFront request record unchanged
// (continue), or a generated 401 when the harness marks the request as one the case expects refused
// (x-bench-floor-401, sent to this implementation only). The same file serves viewer-request and origin-request.
// Record and generated-response shapes: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
interface CfEvent {
  Records: { cf: { request: { headers: Record<string, unknown> } } }[];
}

export const handler = async (event: CfEvent) => {
  const request = event.Records[0].cf.request;
  return request.headers["x-bench-floor-401"] ? { status: "401", statusDescription: "Unauthorized" } : request;
};
