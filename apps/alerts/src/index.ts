export { AlertsService, cityInfo, StartupError } from './alerts.service';
export { alertTopic, metricValues, parseReadingsMessage, readingsBatchTopic } from './bus';
export { signWebhook } from './channels/webhook.adapter';
export { type AlertsConfig, loadAlertsConfig, type StaffMember } from './config';
export { bangkokDayStart, quietEnd } from './evaluator';
export { loadRuleSet, validateRuleSet } from './rules.config';
export { AlertStore } from './store';
