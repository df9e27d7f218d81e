// The page's GraphQL operations. Fields the API does not have yet (SPEC.md §5–§6) are asked
// for only when /features.json lists them, so the same page works before and after they land.

function optional(features, feature, selection) {
  return features.has(feature) ? ` ${selection}` : "";
}

function settingsFields(features) {
  return (
    "provider smtpHost port useSsl security address hasPassword senderName senderEmail" +
    optional(features, "MailSettings.authMethod", "authMethod") +
    optional(features, "MailSettings.oauth", "oauth { address connectedAt status }") +
    optional(features, "MailSettings.lastTest", "lastTest { at delivered failureCode }")
  );
}

export function loadQuery(features) {
  const provider =
    "code title smtpHost port useSsl security appPasswordHelpUrl domains" +
    optional(features, "MailProvider.status", "status") +
    optional(features, "MailProvider.checklist", "checklist { text url }") +
    optional(features, "MailProvider.oauth2Available", "oauth2Available");
  return `query MailTabPage {
  mailProviders { ${provider} }
  mailTab { available missing passwordHelpUrl settings { ${settingsFields(features)} } }
}`;
}

export function saveMutation(features) {
  return `mutation SaveMailSettings($input: MailSettingsInput!) {
  saveMailSettings(input: $input) {
    settings { ${settingsFields(features)} }
    errors { field code message }
    warnings { field code message }
  }
}`;
}

export function sendMutation(features) {
  const steps = optional(
    features,
    "SendTestEmailPayload.steps",
    "steps { name status durationMs smtpCode smtpReply }",
  );
  return `mutation SendTestEmail($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) {
    delivered messageId retryAfter
    failure { code field message hint helpUrl smtpCode smtpReply }
    errors { field code message }${steps}
  }
}`;
}

export const DETECT_QUERY = `query DetectMailProvider($email: String!) {
  detectMailProvider(email: $email) {
    suggestion { provider detectedBy smtpHost port security }
    errors { field code message }
  }
}`;

export const START_OAUTH_MUTATION = `mutation StartMailOAuth($input: StartMailOAuthInput!) {
  startMailOAuth(input: $input) { authorizationUrl errors { field code message } }
}`;
