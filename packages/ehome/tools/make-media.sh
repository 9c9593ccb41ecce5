#!/bin/sh
# Makes the simulated device's media (run at development time; the outputs are committed and shipped):
#   media/live.h264      preview: 60 s, 640x360, 25 fps, H.264 Main, no B-frames, an IDR every 25 frames (1 s)
#   media/playback.h264  recordings: same format, another scene (SMPTE HD bars, a moving box)
#   media/pictures/live-SS.jpg  the preview scene every 2 s, for alarm and capture pictures
# Each picture shows "sec SS.FF", the second of the minute: the device starts a clip at the frame of the current
# second (of the wall clock for preview, of the recording's time for playback), so the seconds shown are true.
# A pre-encoded clip can't show the device's ID or the hour and minute.
# Needs Debian's ffmpeg (libx264, lavfi testsrc/smptehdbars, drawtext) and fonts-dejavu-core.
set -eu
cd "$(dirname "$0")/.."
FONT=${FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf}
[ -f "$FONT" ] || { echo "make-media.sh: no font at $FONT (apt-get install fonts-dejavu-core)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "make-media.sh: ffmpeg not found" >&2; exit 1; }
mkdir -p media/pictures
CLOCK="%{eif\:mod(floor(t)\,60)\:d\:2}.%{eif\:mod(n\,25)\:d\:2}"
TEXT="fontfile=$FONT:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6"
# One thread: the same input makes the same bytes on every machine that has the same x264.
X264="-c:v libx264 -threads 1 -profile:v main -preset slow -crf 30 -bf 0 -g 25 -keyint_min 25 -sc_threshold 0
  -pix_fmt yuv420p -bsf:v filter_units=remove_types=6 -f h264"

# shellcheck disable=SC2086 # X264 is a list of arguments
ffmpeg -hide_banner -v error -y -f lavfi -i "testsrc=size=640x360:rate=25:duration=60" \
  -vf "drawtext=$TEXT:x=20:y=300:text='LIVE  sec $CLOCK'" $X264 media/live.h264
# shellcheck disable=SC2086
ffmpeg -hide_banner -v error -y -f lavfi -i "smptehdbars=size=640x360:rate=25:duration=60" \
  -vf "drawbox=x='mod(t*80\,640)':y=250:w=40:h=40:color=yellow:t=fill,drawtext=$TEXT:x=20:y=20:text='REC  sec $CLOCK'" \
  $X264 media/playback.h264
rm -f media/pictures/live-*.jpg
ffmpeg -hide_banner -v error -y -i media/live.h264 -vf "select='not(mod(n\,50))'" -fps_mode vfr -q:v 9 \
  -start_number 0 media/pictures/live-%02d.jpg
# live-NN.jpg (NN = 0..29, every 50 frames) -> live-SS.jpg (SS = second of the minute, even)
for n in $(seq 29 -1 0); do
  mv "media/pictures/live-$(printf %02d "$n").jpg" "media/pictures/live-s$(printf %02d $((n * 2))).jpg"
done
ls -l media media/pictures | awk '{ s += $5 } END { print "make-media.sh: " s " bytes" }'
