import { ConfigError, createLogger, runUntilSignal } from '@cnx/runtime';
import { loadGatewayConfig } from './config';
import { Gateway } from './gateway';

const logger = createLogger('gateway');
try {
  const config = loadGatewayConfig();
  const gateway = new Gateway(config, logger);
  await runUntilSignal(gateway, logger);
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal({ problems: error.problems }, 'invalid configuration');
    console.error(error.message);
  } else {
    logger.fatal({ err: error }, 'gateway failed');
  }
  process.exit(1);
}
