/**
 * The route schemas of alerting: rules and silences (/system/v1/…, access
 * token with `alerts`) and incidents (/data/v1/incidents…, `data:read`;
 * acknowledging needs `alerts`). Bodies are checked by the alert unit itself
 * (every bad field named at once, including metrics, dimensions and
 * channels), so the routes attach Fastify's validation instead of failing on it.
 */
import {
  ALERT_SEVERITIES,
  AlertRuleInput,
  AlertRuleListResponse,
  AlertRuleResponse,
  BacktestResponse,
  INCIDENT_STATUSES,
  IncidentListResponse,
  IncidentResponse,
  SilenceInput,
  SilenceListResponse,
  SilenceResponse,
} from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import { PagingQuery } from '../../http/paging.js';
import { BASIC_AUTH, errorAnswers, NoContent } from '../../http/route-schema.js';

const system = { tags: ['alerts'], security: BASIC_AUTH };
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const EnvironmentField = Type.Object({
  environment_id: Type.Optional(
    Type.String({ maxLength: 64, description: 'Needed when the token covers several environments' }),
  ),
});
const ListQuery = Type.Composite(
  [PagingQuery, Type.Object({ environment_id: Type.Optional(Type.String({ maxLength: 64 })) })],
  { additionalProperties: false },
);

const crud = (
  what: string,
  input: typeof AlertRuleInput | typeof SilenceInput,
  one: typeof AlertRuleResponse | typeof SilenceResponse,
  list: typeof AlertRuleListResponse | typeof SilenceListResponse,
) => ({
  create: {
    ...system,
    summary: `Create ${what}`,
    body: Type.Composite([input, EnvironmentField], { additionalProperties: false }),
    response: { 201: one, ...errorAnswers(400, 401, 403) },
  },
  list: {
    ...system,
    summary: `List ${what}s`,
    querystring: ListQuery,
    response: { 200: list, ...errorAnswers(400, 401, 403) },
  },
  get: {
    ...system,
    summary: `Get ${what}`,
    params: IdParams,
    response: { 200: one, ...errorAnswers(401, 403, 404) },
  },
  update: {
    ...system,
    summary: `Replace ${what}`,
    params: IdParams,
    body: input,
    response: { 200: one, ...errorAnswers(400, 401, 403, 404, 409) },
  },
  remove: {
    ...system,
    summary: `Delete ${what}`,
    params: IdParams,
    response: { 204: NoContent, ...errorAnswers(401, 403, 404, 409) },
  },
});

export const RULE_SCHEMAS = crud('an alert rule', AlertRuleInput, AlertRuleResponse, AlertRuleListResponse);
const BacktestQuery = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 400,
        description: 'Days back from now (default: all the kept history)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const BACKTEST_SCHEMAS = {
  draft: {
    ...system,
    summary: 'Backtest a rule before saving it: how often it would have fired over the kept history',
    querystring: BacktestQuery,
    body: Type.Composite([AlertRuleInput, EnvironmentField], { additionalProperties: false }),
    response: { 200: BacktestResponse, ...errorAnswers(400, 401, 403) },
  },
  saved: {
    ...system,
    summary: 'Backtest a saved rule over the kept history',
    params: IdParams,
    querystring: BacktestQuery,
    response: { 200: BacktestResponse, ...errorAnswers(400, 401, 403, 404) },
  },
};

export const SILENCE_SCHEMAS = crud('a silence', SilenceInput, SilenceResponse, SilenceListResponse);

const data = { tags: ['alerts'], security: BASIC_AUTH };

export const INCIDENT_LIST_SCHEMA = {
  ...data,
  summary: 'List incidents, newest first',
  querystring: Type.Composite(
    [
      ListQuery,
      Type.Object({
        status: Type.Optional(Type.Union(INCIDENT_STATUSES.map((s) => Type.Literal(s)))),
        severity: Type.Optional(Type.Union(ALERT_SEVERITIES.map((s) => Type.Literal(s)))),
        rule_id: Type.Optional(Type.String({ maxLength: 64 })),
        'timeframe[]': Type.Optional(
          Type.Array(Type.String(), {
            description: 'Incidents open at some time in it: "24:hours" or two epoch seconds',
          }),
        ),
      }),
    ],
    { additionalProperties: false },
  ),
  response: { 200: IncidentListResponse, ...errorAnswers(400, 401, 403) },
};

export const INCIDENT_GET_SCHEMA = {
  ...data,
  summary: 'Get one incident with its transitions',
  params: IdParams,
  response: { 200: IncidentResponse, ...errorAnswers(401, 403, 404) },
};

export const INCIDENT_ACK_SCHEMA = {
  ...data,
  summary: 'Acknowledge an open incident (access token with alerts)',
  params: IdParams,
  response: { 200: IncidentResponse, ...errorAnswers(401, 403, 404, 409) },
};
