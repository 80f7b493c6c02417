// Original file: proto/token_service.proto

import type { Long } from '@grpc/proto-loader';

export interface StatsResponse {
  'tokens'?: (number | string | Long);
  'page_file_bytes'?: (number | string | Long);
  'log_bytes'?: (number | string | Long);
  'pages_total'?: (number | string | Long);
  'pages_free'?: (number | string | Long);
  'last_fsync_ms'?: (number | string | Long);
  'last_checkpoint_ms'?: (number | string | Long);
  'last_sweep_ms'?: (number | string | Long);
  'last_sweep_removed'?: (number | string | Long);
  'cache_enabled'?: (boolean);
  'cache_entries'?: (number | string | Long);
  'cache_hits'?: (number | string | Long);
  'cache_misses'?: (number | string | Long);
  'cache_hit_rate'?: (number | string);
  'requests'?: ({[key: string]: number | string | Long});
  'operations'?: ({[key: string]: number | string | Long});
  'uptime_ms'?: (number | string | Long);
}

export interface StatsResponse__Output {
  'tokens': (number);
  'page_file_bytes': (number);
  'log_bytes': (number);
  'pages_total': (number);
  'pages_free': (number);
  'last_fsync_ms': (number);
  'last_checkpoint_ms': (number);
  'last_sweep_ms': (number);
  'last_sweep_removed': (number);
  'cache_enabled': (boolean);
  'cache_entries': (number);
  'cache_hits': (number);
  'cache_misses': (number);
  'cache_hit_rate': (number);
  'requests': ({[key: string]: number});
  'operations': ({[key: string]: number});
  'uptime_ms': (number);
}
