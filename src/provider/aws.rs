//! What the AWS providers share: settings, the SDK configuration with a credential chain
//! that fails fast off AWS, bounded retries, and the mapping of SDK errors to kinds.
//!
//! The standard chains are used (environment, shared config and credentials files with SSO
//! and `credential_process`, web identity for CI OIDC, ECS, EC2 instance metadata), but the
//! instance metadata client gets short timeouts and one attempt, and the whole lookup a
//! deadline, so that a machine off AWS with no credentials gets a clear error in well under
//! two seconds instead of a long wait.

use std::time::Duration;

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::imds;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::SettingsReader;

/// Default attempts per request (the first try and four retries).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Default reads in flight per instance.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Deadline for finding a region and credentials.
const CREDENTIALS_DEADLINE: Duration = Duration::from_millis(1500);

/// Settings shared by `[providers.aws-sm]` and `[providers.aws-ssm]`.
#[derive(Clone, Debug)]
pub struct Config {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub role_arn: Option<String>,
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    /// Per attempt.
    pub timeout: Duration,
    pub concurrency: usize,
    /// Use the service's batch read when several values are needed.
    pub batch: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            region: None,
            profile: None,
            endpoint: None,
            role_arn: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            concurrency: DEFAULT_CONCURRENCY,
            batch: true,
        }
    }
}

pub const KEYS: &[&str] = &[
    "region",
    "profile",
    "endpoint",
    "role_arn",
    "max_attempts",
    "connect_timeout",
    "timeout",
    "concurrency",
    "batch",
];

impl Config {
    pub fn read(r: &mut SettingsReader<'_>) -> Self {
        let mut c = Self {
            region: r.string("region").map(|(v, _)| v),
            profile: r.string("profile").map(|(v, _)| v),
            endpoint: r.string("endpoint").map(|(v, _)| v),
            role_arn: r.string("role_arn").map(|(v, _)| v),
            ..Self::default()
        };
        if let Some(n) = r.number("max_attempts", 1..=20) {
            c.max_attempts = u32::try_from(n).unwrap_or(DEFAULT_MAX_ATTEMPTS);
        }
        if let Some(n) = r.number("concurrency", 1..=256) {
            c.concurrency = usize::try_from(n).unwrap_or(DEFAULT_CONCURRENCY);
        }
        if let Some(b) = r.boolean("batch") {
            c.batch = b;
        }
        if let Some(d) = r.duration("connect_timeout") {
            c.connect_timeout = d;
        }
        if let Some(d) = r.duration("timeout") {
            c.timeout = d;
        }
        r.finish(KEYS);
        c
    }
}

/// A metadata client that gives up quickly, so a machine off AWS is not held up.
fn fast_imds() -> imds::Client {
    imds::Client::builder()
        .connect_timeout(Duration::from_millis(300))
        .read_timeout(Duration::from_millis(500))
        .max_attempts(1)
        .build()
}

const SOURCES: &str = "environment variables (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), \
the shared config and credentials files (profiles, SSO, credential_process), a web identity \
token (AWS_WEB_IDENTITY_TOKEN_FILE), the ECS container endpoint and EC2 instance metadata";

/// Loads the SDK configuration: region, credentials (resolved once, now, under a deadline),
/// retries with backoff and jitter, timeouts and the endpoint.
pub async fn load(c: &Config, service: &str) -> Result<SdkConfig, ProviderError> {
    let region = match &c.region {
        Some(r) => Some(Region::new(r.clone())),
        None => {
            let mut profile_region = ProfileFileRegionProvider::builder();
            if let Some(p) = &c.profile {
                profile_region = profile_region.profile_name(p);
            }
            let chain = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
                .or_else(profile_region.build())
                .or_else(
                    aws_config::imds::region::ImdsRegionProvider::builder()
                        .imds_client(fast_imds())
                        .build(),
                );
            tokio::time::timeout(CREDENTIALS_DEADLINE, chain.region())
                .await
                .ok()
                .flatten()
        }
    };
    let Some(region) = region else {
        return Err(
            ProviderError::new(ErrorKind::Other, format!("no AWS region for {service}")).hint(
                format!(
                    "set `region` in [providers.{service}], or AWS_REGION / AWS_DEFAULT_REGION"
                ),
            ),
        );
    };

    let credentials = match &c.profile {
        Some(p) => {
            profile_credentials(
                p,
                &region,
                "`profile` in the manifest",
                CREDENTIALS_DEADLINE,
            )
            .await?
        }
        None => default_credentials(&region).await?,
    };

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .credentials_provider(credentials)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(c.max_attempts)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(c.connect_timeout)
                .operation_attempt_timeout(c.timeout)
                .build(),
        );
    if let Some(e) = &c.endpoint {
        loader = loader.endpoint_url(e);
    }
    let base = loader.load().await;

    let Some(role) = &c.role_arn else {
        return Ok(base);
    };
    let provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("sx")
        .configure(&base)
        .build()
        .await;
    let assumed = tokio::time::timeout(Duration::from_secs(10), provider.provide_credentials())
        .await
        .map_err(|_| "no answer from STS within 10s".to_owned())
        .and_then(|r| r.map_err(|e| crate::error::error_chain(&e)))
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::Auth,
                format!("cannot assume role `{}`: {}", escape(role), escape(&e)),
            )
            .hint("the base credentials need sts:AssumeRole on this role, and the role's trust policy must allow them")
        })?;
    Ok(base
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(assumed),
        )
        .build())
}

/// The default chain, as every AWS tool walks it, under a deadline.
async fn default_credentials(region: &Region) -> Result<Credentials, ProviderError> {
    let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
        .imds_client(fast_imds())
        .region(region.clone())
        .build()
        .await;
    let found = tokio::time::timeout(CREDENTIALS_DEADLINE, chain.provide_credentials())
        .await
        .ok()
        .and_then(Result::ok);
    if let Some(credentials) = found {
        return Ok(credentials);
    }
    // With AWS_PROFILE set, that profile is most likely what the user meant: say why it
    // gave nothing (not defined, an expired SSO session), not only that nothing was found.
    let Some(profile) = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()) else {
        return Err(ProviderError::new(
            ErrorKind::Auth,
            format!("no AWS credentials found; tried {SOURCES}"),
        )
        .hint("set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws sso login`, or run where a role is attached"));
    };
    // Only to say why: a short second look, so the whole stays within SPEC's 2 s.
    let why = match profile_credentials(&profile, region, "AWS_PROFILE", Duration::from_millis(400))
        .await
    {
        Ok(_) => "it gave no credentials in time".to_owned(),
        Err(e) => e.message,
    };
    Err(ProviderError::new(
        ErrorKind::Auth,
        format!("no AWS credentials found; tried {SOURCES}; {why}"),
    )
    .hint(format!(
        "check that ~/.aws/config or ~/.aws/credentials has the profile `{0}` (AWS_PROFILE), or run `aws sso login --profile {0}` for an SSO profile",
        escape(&profile)
    )))
}

/// The credentials of the profile the manifest names, and only those: like `aws --profile`,
/// a named profile wins over keys in the environment, and a missing one is an error rather
/// than a quiet switch to another identity.
async fn profile_credentials(
    profile: &str,
    region: &Region,
    named_by: &str,
    deadline: Duration,
) -> Result<Credentials, ProviderError> {
    let conf = ProviderConfig::without_region().with_region(Some(region.clone()));
    let provider = ProfileFileCredentialsProvider::builder()
        .configure(&conf)
        .profile_name(profile)
        .build();
    let shown = escape(profile);
    tokio::time::timeout(deadline, provider.provide_credentials())
        .await
        .map_err(|_| format!("no answer within {}s", deadline.as_secs_f32()))
        .and_then(|r| r.map_err(|e| crate::error::error_chain(&e)))
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::Auth,
                format!(
                    "no AWS credentials from profile `{shown}` ({named_by}): {}",
                    escape(&e)
                ),
            )
            .hint(format!(
                "check that ~/.aws/config or ~/.aws/credentials has the profile `{shown}`, run `aws sso login --profile {shown}` for an SSO profile, or remove `profile` to use the default chain"
            ))
        })
}

/// A service client built on [`load`], and the region it talks to (for messages).
pub async fn connect<C>(
    config: &Config,
    service: &str,
    make: impl FnOnce(&SdkConfig) -> C,
) -> Result<(C, String), ProviderError> {
    let shared = load(config, service).await?;
    let region = shared
        .region()
        .map_or_else(|| "none".to_owned(), ToString::to_string);
    Ok((make(&shared), region))
}

/// Maps an SDK error to a kind and a message naming `what` (never a value).
pub fn error<E>(
    e: &SdkError<E, HttpResponse>,
    what: &str,
    region: &str,
    service: &str,
) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        // An answer without an AWS error in it: a proxy, a load balancer or a wrong endpoint.
        SdkError::ServiceError(se) if se.err().code().is_none() => {
            not_aws(se.raw().status().as_u16(), what, region, service)
        }
        SdkError::ResponseError(re) if !re.raw().status().is_success() => {
            not_aws(re.raw().status().as_u16(), what, region, service)
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let msg = se.err().message().unwrap_or("");
            service_error(code, msg, what, region, service)
        }
        SdkError::TimeoutError(_) => ProviderError::new(
            ErrorKind::Timeout,
            format!("{what}: request timed out (region {region})"),
        )
        .hint(format!(
            "raise `timeout` in [providers.{service}], or check the network path"
        )),
        SdkError::DispatchFailure(_) => ProviderError::new(
            ErrorKind::Unreachable,
            format!(
                "{what}: cannot reach the {service} endpoint (region {region}): {}",
                escape(&crate::error::error_chain(e))
            ),
        )
        .hint(format!(
            "check the network, `endpoint` in [providers.{service}] or AWS_ENDPOINT_URL, and the proxy variables (HTTPS_PROXY, NO_PROXY)"
        )),
        _ => ProviderError::new(
            ErrorKind::Other,
            format!("{what}: {}", escape(&crate::error::error_chain(e))),
        ),
    }
}

/// An HTTP error status that did not come with an AWS error body.
fn not_aws(status: u16, what: &str, region: &str, service: &str) -> ProviderError {
    let kind = match status {
        429 | 500..=599 => ErrorKind::Unreachable,
        401 | 403 => ErrorKind::Denied,
        _ => ErrorKind::Other,
    };
    ProviderError::new(
        kind,
        format!("{what} (region {region}): the endpoint answered HTTP {status} without an AWS error"),
    )
    .hint(format!(
        "something other than AWS answered: check `endpoint` in [providers.{service}], AWS_ENDPOINT_URL and the proxy variables (HTTPS_PROXY, NO_PROXY)"
    ))
}

/// Maps a service error code (also those reported per item by batch calls).
pub fn service_error(
    code: &str,
    msg: &str,
    what: &str,
    region: &str,
    service: &str,
) -> ProviderError {
    let kind = match code {
        "ResourceNotFoundException" | "ParameterNotFound" | "ParameterVersionNotFound" => {
            ErrorKind::NotFound
        }
        "AccessDeniedException" | "AccessDenied" | "DecryptionFailure" => ErrorKind::Denied,
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "InvalidClientTokenId" => ErrorKind::Auth,
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => ErrorKind::Unreachable,
        "InternalServiceError"
        | "InternalServerError"
        | "InternalFailure"
        | "ServiceUnavailable" => ErrorKind::Unreachable,
        "InvalidRequestException" if msg.contains("deletion") || msg.contains("deleted") => {
            ErrorKind::NotFound
        }
        "InvalidRequestException" | "InvalidParameterException" | "ValidationException" => {
            ErrorKind::Malformed
        }
        _ => ErrorKind::Other,
    };
    let err = ProviderError::new(
        kind,
        if msg.is_empty() {
            format!("{what} (region {region}): {code}")
        } else {
            format!("{what} (region {region}): {code}: {}", escape(msg))
        },
    );
    let hint = match (kind, code) {
        (ErrorKind::NotFound, "InvalidRequestException") => {
            "the secret is deleted or scheduled for deletion; `aws secretsmanager restore-secret` brings it back".to_owned()
        }
        (ErrorKind::NotFound, "ParameterVersionNotFound") => "check the ?version= of the reference".to_owned(),
        (ErrorKind::NotFound, _) if msg.contains("version") || msg.contains("Version") => {
            "check ?version_id= / ?stage= of the reference".to_owned()
        }
        (ErrorKind::NotFound, _) => format!("check the name and the region (`region` in [providers.{service}] or AWS_REGION)"),
        (ErrorKind::Denied, _) => match service {
            "aws-ssm" => "the role needs ssm:GetParameter(s) (and GetParametersByPath for imports) and kms:Decrypt for SecureString".to_owned(),
            _ => "the role needs secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key)".to_owned(),
        },
        (ErrorKind::Auth, _) => "check the AWS credentials in use (AWS_PROFILE, AWS_ACCESS_KEY_ID, `aws sts get-caller-identity`)".to_owned(),
        (ErrorKind::Unreachable, _) => format!(
            "still failing after the retry budget; raise `max_attempts` or lower `concurrency` in [providers.{service}]"
        ),
        _ => return err,
    };
    err.hint(hint)
}
