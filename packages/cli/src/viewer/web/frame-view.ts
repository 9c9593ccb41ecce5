/**
 * Draws GigE Vision frames on the view's canvas. Two ways, same pixels:
 * - WebGL 2 (the default on a real GPU): Mono8 goes to the GPU as it arrived, one byte a pixel in an R8
 *   texture, and a fragment shader turns it to grey (texelFetch: exact, no filtering). Other formats are converted
 *   to RGBA in JavaScript (the CLI's own conversion) and uploaded as an RGBA texture. The canvas holds the frame at
 *   its own size; zoom is a CSS transform, scaled by the compositor.
 * - the 2D canvas (no WebGL 2, a software GL such as headless Chromium's SwiftShader, or `?render=2d`): every format converted to RGBA in JavaScript and put with
 *   putImageData.
 * Both keep the last frame readable (`readPixels`, and `toBlob` for snapshots).
 */
import { type DisplayImage, toDisplayImage } from '../../image/convert.js';
import type { FrameHeader } from '../protocol.js';

export interface FrameView {
  readonly kind: 'webgl' | '2d';
  /** Draws one frame (resizing the canvas to it); returns the image the pixel probe reads. */
  draw(header: FrameHeader, pixels: Uint8Array): DisplayImage | Uint8Array;
  /** RGBA bytes of a rectangle of the canvas, rows top to bottom (tests and the probe read the canvas this way). */
  readPixels(x: number, y: number, w: number, h: number): Uint8Array;
}

/** Converts a frame to RGBA words in `rgba` (little-endian 0xAABBGGRR); returns the display image for probes. */
export function toRgba(header: FrameHeader, pixels: Uint8Array, rgba: Uint32Array): DisplayImage | Uint8Array {
  const n = header.width * header.height;
  if (header.pixelFormat === 'Mono8' && header.paddingX === 0) {
    // the common case, without an intermediate image: little-endian RGBA words 0xFFvvvvvv
    for (let i = 0; i < n; i++) {
      const v = pixels[i] as number;
      rgba[i] = 0xff000000 | (v << 16) | (v << 8) | v;
    }
    return pixels;
  }
  const img = toDisplayImage({
    width: header.width,
    height: header.height,
    pixelFormat: header.pixelFormat,
    data: pixels,
    paddingX: header.paddingX,
  });
  const p = img.pixels;
  if (img.kind === 'gray8')
    for (let i = 0; i < n; i++) {
      const v = p[i] as number;
      rgba[i] = 0xff000000 | (v << 16) | (v << 8) | v;
    }
  else if (img.kind === 'gray16')
    for (let i = 0; i < n; i++) {
      const v = (p[i] as number) >> 8;
      rgba[i] = 0xff000000 | (v << 16) | (v << 8) | v;
    }
  else
    for (let i = 0; i < n; i++)
      rgba[i] = 0xff000000 | ((p[3 * i + 2] as number) << 16) | ((p[3 * i + 1] as number) << 8) | (p[3 * i] as number);
  return img;
}

function resize(canvas: HTMLCanvasElement, width: number, height: number): boolean {
  if (canvas.width === width && canvas.height === height) return false;
  canvas.width = width;
  canvas.height = height;
  return true;
}

/** The 2D canvas way. */
export function canvas2dView(canvas: HTMLCanvasElement): FrameView {
  const ctx = canvas.getContext('2d', { alpha: false }) as CanvasRenderingContext2D;
  let image: ImageData | undefined;
  return {
    kind: '2d',
    draw(header, pixels) {
      if (resize(canvas, header.width, header.height) || !image)
        image = ctx.createImageData(header.width, header.height);
      const img = toRgba(header, pixels, new Uint32Array(image.data.buffer));
      ctx.putImageData(image, 0, 0);
      return img;
    },
    readPixels(x, y, w, h) {
      return new Uint8Array(ctx.getImageData(x, y, w, h).data.buffer);
    },
  };
}

const VERTEX = `#version 300 es
in vec2 pos;
void main() { gl_Position = vec4(pos, 0.0, 1.0); }`;

// one texel a canvas pixel: texelFetch at the pixel's own coordinates (row 0 of the frame at the top)
const FRAGMENT = `#version 300 es
precision highp float;
uniform highp sampler2D frame;
uniform bool gray;
uniform int height;
out vec4 colour;
void main() {
  ivec2 p = ivec2(int(gl_FragCoord.x), height - 1 - int(gl_FragCoord.y));
  vec4 t = texelFetch(frame, p, 0);
  colour = gray ? vec4(t.rrr, 1.0) : vec4(t.rgb, 1.0);
}`;

/** Whether a WebGL context runs on a software rasteriser (SwiftShader, llvmpipe: no GPU). */
function softwareGl(gl: WebGL2RenderingContext): boolean {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
}

/**
 * The WebGL 2 way, or undefined when the browser has no WebGL 2 (or it fails to set up), or its GL is a software
 * one and `evenInSoftware` is not set. The canvas is only probed in that case: a canvas that had a WebGL context
 * cannot get a 2D one, so the probe runs on a canvas of its own.
 */
export function webglView(canvas: HTMLCanvasElement, evenInSoftware = false): FrameView | undefined {
  if (!evenInSoftware) {
    const probe = document.createElement('canvas').getContext('webgl2');
    if (!probe || softwareGl(probe)) {
      probe?.getExtension('WEBGL_lose_context')?.loseContext();
      return undefined;
    }
    probe.getExtension('WEBGL_lose_context')?.loseContext();
  }
  const gl = canvas.getContext('webgl2', {
    alpha: false,
    antialias: false,
    depth: false,
    stencil: false,
    // the last frame stays readable between frames: snapshots (toBlob) and the tests' readPixels
    preserveDrawingBuffer: true,
  });
  if (!gl) return undefined;
  const shader = (type: number, src: string): WebGLShader | undefined => {
    const s = gl.createShader(type);
    if (!s) return undefined;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    return gl.getShaderParameter(s, gl.COMPILE_STATUS) ? s : undefined;
  };
  const vs = shader(gl.VERTEX_SHADER, VERTEX);
  const fs = shader(gl.FRAGMENT_SHADER, FRAGMENT);
  const program = gl.createProgram();
  if (!vs || !fs || !program) return undefined;
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) return undefined;
  gl.useProgram(program);
  // one triangle covering the viewport
  gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
  const pos = gl.getAttribLocation(program, 'pos');
  gl.enableVertexAttribArray(pos);
  gl.vertexAttribPointer(pos, 2, gl.FLOAT, false, 0, 0);
  const texture = gl.createTexture();
  gl.activeTexture(gl.TEXTURE0);
  gl.bindTexture(gl.TEXTURE_2D, texture);
  for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, p, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  gl.uniform1i(gl.getUniformLocation(program, 'frame'), 0);
  const grayAt = gl.getUniformLocation(program, 'gray');
  const heightAt = gl.getUniformLocation(program, 'height');
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.pixelStorei(gl.PACK_ALIGNMENT, 1);

  let texture_: { width: number; height: number; gray: boolean } | undefined;
  let rgba: Uint32Array | undefined;
  return {
    kind: 'webgl',
    draw(header, pixels) {
      const { width, height } = header;
      if (resize(canvas, width, height)) gl.viewport(0, 0, width, height);
      const mono8 = header.pixelFormat === 'Mono8';
      let img: DisplayImage | Uint8Array;
      let data: Uint8Array;
      if (mono8) {
        // as it arrived: a line is width + paddingX bytes (checked by the length here, never read past)
        const stride = width + header.paddingX;
        if (pixels.byteLength < stride * (height - 1) + width)
          throw new Error(`Mono8 frame of ${pixels.byteLength} bytes is short for ${width}x${height}`);
        gl.pixelStorei(gl.UNPACK_ROW_LENGTH, stride);
        data = pixels;
        img = header.paddingX === 0 ? pixels : toDisplayImage({ ...header, data: pixels });
      } else {
        gl.pixelStorei(gl.UNPACK_ROW_LENGTH, 0);
        if (rgba?.length !== width * height) rgba = new Uint32Array(width * height);
        img = toRgba(header, pixels, rgba);
        data = new Uint8Array(rgba.buffer);
      }
      const t = texture_;
      const format = mono8 ? gl.RED : gl.RGBA;
      if (t && t.width === width && t.height === height && t.gray === mono8)
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, format, gl.UNSIGNED_BYTE, data);
      else {
        gl.texImage2D(gl.TEXTURE_2D, 0, mono8 ? gl.R8 : gl.RGBA8, width, height, 0, format, gl.UNSIGNED_BYTE, data);
        texture_ = { width, height, gray: mono8 };
        gl.uniform1i(grayAt, mono8 ? 1 : 0);
        gl.uniform1i(heightAt, height);
      }
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      return img;
    },
    readPixels(x, y, w, h) {
      const up = new Uint8Array(w * h * 4);
      gl.readPixels(x, canvas.height - y - h, w, h, gl.RGBA, gl.UNSIGNED_BYTE, up);
      // GL's rows go bottom up
      const out = new Uint8Array(up.length);
      for (let r = 0; r < h; r++) out.set(up.subarray((h - 1 - r) * w * 4, (h - r) * w * 4), r * w * 4);
      return out;
    },
  };
}
