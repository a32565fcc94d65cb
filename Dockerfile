# certdesk: one static binary for `api`, `worker`, `migrate` and `seed`.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/certdesk ./cmd/certdesk

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/certdesk /usr/local/bin/certdesk
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/certdesk"]
CMD ["api"]
