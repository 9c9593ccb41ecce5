/**
 * Every `@cam` package as a namespace: `import { gvcp, gvsp } from '@cam/all'`.
 * Install the single packages instead when you need only one protocol.
 */
export * as ehome from '@cam/ehome';
export * as genicam from '@cam/genicam';
export * as gvcp from '@cam/gvcp';
export * as gvsp from '@cam/gvsp';
export * as netUtils from '@cam/net-utils';
export * as scGvmp from '@cam/sc-gvmp';
export * as sdkTcp from '@cam/sdk-tcp';
