#!/usr/bin/env bash
# Makes the sample camera clips that the local stream server (desktop/demo/stream_server.py) loops
# and the video tests play: a few short, real H.264 clips rendered by Debian's ffmpeg from its
# built-in test sources, nothing downloaded. Each clip is 12 s, 640x360, 25 fps, a keyframe every
# second (a reconnecting player gets a picture within a second), no B-frames, no audio (a video
# wall is muted), a burnt-in running clock so that every frame differs; as MPEG-TS and as an HLS
# rendition (1 s segments) that the server turns into a live playlist.
#
#   scripts/make-sample-media.sh [DIR]     (default: var/media; CITYOPS_MEDIA_DIR also works)
#
# Idempotent: does nothing when every output is there and newer than this script. Takes a few
# seconds on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
script="$PWD/scripts/make-sample-media.sh"
out=${1:-${CITYOPS_MEDIA_DIR:-var/media}}

# name|lavfi source|caption
CLIPS=(
  "clip-a|testsrc2=s=640x360:r=25|CAM A testsrc2"
  "clip-b|smptehdbars=s=640x360:r=25|CAM B smptehdbars"
  "clip-c|mandelbrot=s=640x360:r=25|CAM C mandelbrot"
  "clip-d|life=s=640x360:r=25:mold=10:ratio=0.1:death_color=#102030:life_color=#50c878|CAM D life"
)
SECONDS_PER_CLIP=12

up_to_date() {
  local stamp="$out/.complete"
  [ -f "$stamp" ] && [ "$stamp" -nt "$script" ] || return 1
  for entry in "${CLIPS[@]}"; do
    local name=${entry%%|*}
    [ -s "$out/$name.ts" ] && [ -s "$out/hls/$name/index.m3u8" ] || return 1
  done
}

if up_to_date; then
  exit 0
fi
if ! command -v ffmpeg >/dev/null; then
  echo "make-sample-media: ffmpeg is not installed (scripts/bootstrap.sh installs it)" >&2
  exit 3
fi

font=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf \
         /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf; do
  if [ -f "$f" ]; then font=$f; break; fi
done

mkdir -p "$out"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

for entry in "${CLIPS[@]}"; do
  IFS='|' read -r name source caption <<<"$entry"
  filters="format=yuv420p"
  if [ -n "$font" ]; then  # without a font the clip is still a real, moving picture
    filters="drawtext=fontfile=$font:text='$caption':x=w-tw-20:y=h-th-24:fontsize=20:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6"
    filters+=",drawtext=fontfile=$font:text='%{pts\\:hms}':x=20:y=h-60:fontsize=36:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6"
    filters+=",format=yuv420p"
  fi
  ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "$source" -t "$SECONDS_PER_CLIP" \
    -vf "$filters" -c:v libx264 -preset veryfast -profile:v main -g 25 -keyint_min 25 \
    -sc_threshold 0 -bf 0 -b:v 600k -maxrate 800k -bufsize 800k -an \
    -f mpegts "$work/$name.ts"
  mkdir -p "$work/hls/$name"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$work/$name.ts" -c copy -f hls \
    -hls_time 1 -hls_playlist_type vod -hls_segment_filename "$work/hls/$name/seg%03d.ts" \
    "$work/hls/$name/index.m3u8"
done

for entry in "${CLIPS[@]}"; do
  name=${entry%%|*}
  rm -rf "${out:?}/hls/$name"
  mkdir -p "$out/hls"
  mv "$work/$name.ts" "$out/$name.ts"
  mv "$work/hls/$name" "$out/hls/$name"
done
touch "$out/.complete"
echo "make-sample-media: ${#CLIPS[@]} clips in $out"
