// Original file: proto/token_service.proto


export interface StatsRequest {
}

export interface StatsRequest__Output {
}
