/**
 * The Node-RED system of the ingest bench: Node-RED 4 (npm `node-red`) with node-red-contrib-influxdb,
 * the flow someone would build for "MQTT into InfluxDB, batched", as the nodes' documentation
 * describes it: the core `mqtt in` node (QoS 1, a persistent session like the other systems, the
 * payload parsed as JSON), a `function` node turning each message into a point of the influx batch
 * node's format (measurement, tags, fields, ms timestamp), the core `join` node collecting points
 * into an array (5000 parts or 100 ms, the batch the naive script and the gateway write), and the
 * `influxdb batch` node (writePoints of the `influx` 1.x client, precision ms). No validation, no QC,
 * no spool: like the naive script, it acknowledges on receipt.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Node ids: Node-RED resolves config nodes by id, so they must not equal any property value. */
const ID = {
  tab: 'f10000000000000a',
  broker: 'f10000000000000b',
  in: 'f10000000000000c',
  point: 'f10000000000000d',
  join: 'f10000000000000e',
  batch: 'f10000000000000f',
  db: 'f100000000000010',
};

export interface NodeRedFiles {
  settings: string;
  userDir: string;
}

/** Writes settings.js and flows.json for one run into `dir`. */
export function writeNodeRedFlow(
  dir: string,
  o: {
    repoRoot: string;
    mqttUrl: string;
    influxUrl: string;
    db: string;
    city: string;
    citiesDir: string;
    port: number;
  },
): NodeRedFiles {
  const broker = new URL(o.mqttUrl);
  const influx = new URL(o.influxUrl);
  // device -> station from the city pack, as the naive script reads it.
  const stations: Record<string, string> = {};
  const raw = JSON.parse(readFileSync(join(o.citiesDir, o.city, 'devices.json'), 'utf8'));
  for (const d of Array.isArray(raw) ? raw : (raw.devices ?? [])) stations[d.id] = d.stationId ?? d.station ?? d.id;
  const toPoint = `
const device = msg.topic.split('/')[4];
const m = msg.payload;
const fields = Object.assign({}, m.values);
if (m.seq !== undefined) fields.seq = m.seq;
fields.qc = '';
msg.payload = {
  measurement: 'reading',
  tags: { city: ${JSON.stringify(o.city)}, station: global.get('stations')[device] || device, device },
  fields,
  timestamp: typeof m.ts === 'number' ? m.ts : Date.parse(m.ts),
};
return msg;`;
  const flows = [
    { id: ID.tab, type: 'tab', label: 'ingest' },
    {
      id: ID.broker,
      type: 'mqtt-broker',
      name: 'bench',
      broker: broker.hostname,
      port: broker.port,
      clientid: `node-red-ingest-${o.city}`,
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: false,
    },
    {
      id: ID.in,
      type: 'mqtt in',
      z: ID.tab,
      topic: `cnx/v1/${o.city}/devices/+/telemetry`,
      qos: '1',
      datatype: 'json',
      broker: ID.broker,
      wires: [[ID.point]],
    },
    { id: ID.point, type: 'function', z: ID.tab, name: 'to point', func: toPoint, outputs: 1, wires: [[ID.join]] },
    {
      id: ID.join,
      type: 'join',
      z: ID.tab,
      mode: 'custom',
      build: 'array',
      property: 'payload',
      propertyType: 'msg',
      count: '5000',
      timeout: '0.1',
      joiner: '\\n',
      joinerType: 'str',
      accumulate: false,
      wires: [[ID.batch]],
    },
    {
      id: ID.batch,
      type: 'influxdb batch',
      z: ID.tab,
      influxdb: ID.db,
      precision: 'ms',
      retentionPolicy: '',
      wires: [],
    },
    {
      id: ID.db,
      type: 'influxdb',
      hostname: influx.hostname,
      port: influx.port,
      protocol: 'http',
      database: o.db,
      name: 'bench',
      usetls: false,
      influxdbVersion: '1.x',
      url: o.influxUrl,
      rejectUnauthorized: false,
    },
  ];
  const userDir = join(dir, 'node-red');
  const flowFile = join(dir, 'flows.json');
  writeFileSync(flowFile, JSON.stringify(flows));
  const settings = join(dir, 'settings.js');
  const nodesDir = join(o.repoRoot, 'node_modules', 'node-red-contrib-influxdb');
  writeFileSync(
    settings,
    `module.exports = ${JSON.stringify(
      {
        uiHost: '127.0.0.1',
        uiPort: o.port,
        flowFile,
        userDir,
        nodesDir: [nodesDir],
        credentialSecret: false,
        functionGlobalContext: { stations },
        logging: { console: { level: 'info', metrics: false, audit: false } },
        editorTheme: { tours: false },
        diagnostics: { enabled: false },
        telemetry: { enabled: false },
      },
      null,
      2,
    )};\n`,
  );
  return { settings, userDir };
}
