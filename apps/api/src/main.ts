import { ConfigError, createLogger, runUntilSignal } from '@cnx/runtime';
import { loadApiConfig } from './config';
import { ApiServer } from './server';

const logger = createLogger('api');
try {
  const config = loadApiConfig();
  await runUntilSignal(new ApiServer(config, logger), logger);
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal({ problems: error.problems }, 'invalid configuration');
    console.error(error.message);
  } else {
    logger.fatal({ err: error }, 'api failed');
  }
  process.exit(1);
}
